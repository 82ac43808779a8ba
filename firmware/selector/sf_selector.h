/*
 * subflash reference slot selector: the pure decision (no hardware access).
 * Behaviour: docs/module-firmware.md ("The boot record", "What the selector does on every reset").
 * SPDX-License-Identifier: MIT
 */
#ifndef SF_SELECTOR_H
#define SF_SELECTOR_H

#include <stdint.h>

#define SF_RECORD_SIZE 64u
#define SF_MARKER_OFFSET 32u
#define SF_MARKER_SIZE 32u

/* Read-only view of the module's flash: `mem` holds the bytes of [base, base + size). On the target
 * mem == (const uint8_t *)base; on the host it is a buffer loaded from a flash image file. */
typedef struct {
  uint32_t base;
  uint32_t size;
  const uint8_t *mem;
} sf_flash_view;

/* The layout the selector was built for (subflash_layout.h on the target, arguments on the host). */
typedef struct {
  uint32_t record[2];   /* start of boot-record copy 0 and copy 1 */
  uint32_t slot_addr[2]; /* slot A, slot B */
  uint32_t slot_size[2];
  uint32_t ram_start;   /* RAM [ram_start, ram_end]: the initial MSP must lie in (ram_start, ram_end] */
  uint32_t ram_end;
  uint32_t sysmem;      /* ROM bootloader entry (AN2606 system memory address) */
} sf_layout;

enum { SF_BOOT_SLOT = 0, SF_BOOT_ROM = 1 };
#define SF_NONE 0xFFu

typedef struct {
  uint8_t action;  /* SF_BOOT_SLOT or SF_BOOT_ROM */
  uint8_t slot;    /* 0 = A, 1 = B (SF_NONE with SF_BOOT_ROM) */
  uint8_t winner;  /* winning copy 0/1, SF_NONE when neither copy is valid */
  uint8_t mark;    /* copy whose trial marker must be programmed BEFORE the jump, or SF_NONE */
  uint8_t trial;   /* 1: this boot is the record's one trial boot */
  uint32_t target; /* vector table to start: slot address, or the system memory address */
} sf_decision;

/* Flags for sf_decide. SF_TRIAL_USED: treat the winner's marker as programmed (the shim sets it
 * when programming the marker failed, so an unmarked trial is never booted). */
#define SF_TRIAL_USED 1u

uint32_t sf_crc32(const uint8_t *p, uint32_t len);
void sf_decide(const sf_flash_view *flash, const sf_layout *layout, unsigned flags, sf_decision *out);

#endif

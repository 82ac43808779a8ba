/*
 * Minimal flash programming for the selector's one write, the 32-byte trial marker
 * (docs/module-firmware.md). One driver per family group, each written from its reference manual:
 *   flash_f0f1f3.c    F0/F1/F3  half-words        RM0091 §3.2, RM0008 §3.3, RM0316 §4.2
 *   flash_f2f4f7.c    F2/F4/F7  PSIZE x32 words   RM0033 §2.3, RM0090 §3.5, RM0385 §3.3
 *   flash_g0g4l4wb.c  G0/G4/L4/WB double-words    RM0444 §3.3, RM0440 §3.3, RM0351 §3.3, RM0434 §3.3
 *   flash_l0l1.c      L0/L1     words (PECR keys) RM0367 §3.3, RM0038 §3.3
 *   flash_h7.c        H7        256-bit flash words RM0433 §4.3
 * Registers are reached through SF_REGS_AT / SF_RD / SF_WR / SF_MEM so that host tests
 * (SF_FLASH_HOST_MODEL) can point them at a behavioural model of the family's FLASH interface.
 * SPDX-License-Identifier: MIT
 */
#ifndef SF_FLASH_H
#define SF_FLASH_H

#include <stdint.h>

#define SF_FLASH_OK 0u
/* The interface stayed locked after the key sequence: a wrong key was written earlier, which locks
 * the FLASH interface until the next reset (e.g. RM0090 §3.5.1, RM0444 §3.3.6). */
#define SF_FLASH_ELOCKED 0x80000000u
/* Address or length not a whole number of program units. */
#define SF_FLASH_EALIGN 0x40000000u

/* Programs `len` bytes at `addr` (both multiples of the family's program unit; the target bytes
 * erased, or on L0/L1 any value). Returns SF_FLASH_OK, SF_FLASH_E*, or the status register's error
 * bits as the hardware reported them (already cleared). Leaves the interface locked. */
uint32_t sf_flash_program(uint32_t addr, const uint8_t *src, uint32_t len);

#ifdef SF_FLASH_HOST_MODEL
extern uint32_t sf_model_regs[];
uint32_t sf_model_read(volatile uint32_t *reg);
void sf_model_write(volatile uint32_t *reg, uint32_t value);
void sf_model_mem_write(uint32_t addr, uint32_t value, unsigned bytes);
#define SF_REGS_AT(type, address) ((volatile type *)(void *)sf_model_regs)
#define SF_RD(reg) sf_model_read(&(reg))
#define SF_WR(reg, v) sf_model_write(&(reg), (v))
#define SF_MEM(addr, v, bytes) sf_model_mem_write((addr), (v), (bytes))
#define SF_DSB() ((void)0)
#else
#define SF_REGS_AT(type, address) ((volatile type *)(address))
#define SF_RD(reg) (reg)
#define SF_WR(reg, v) ((reg) = (v))
#define SF_MEM(addr, v, bytes)                                                                      \
  ((bytes) == 2u ? (void)(*(volatile uint16_t *)(addr) = (uint16_t)(v))                              \
                 : (void)(*(volatile uint32_t *)(addr) = (uint32_t)(v)))
/* Data synchronisation barrier: program writes reach the flash interface in order before BSY is
 * polled (needed behind the F7/H7 AXI bus and write buffers, RM0385 §3.3.4, RM0433 §4.3.9). */
#define SF_DSB() __asm volatile("dsb" ::: "memory")
#endif

/* Little-endian word from bytes (the marker source may be unaligned). */
static inline uint32_t sf_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Unlock keys of the FLASH_KEYR registers (RM0008 §3.3.1, RM0090 §3.5.1, RM0444 §3.3.6, RM0433 §4.5.1). */
#define SF_KEY1 0x45670123u
#define SF_KEY2 0xCDEF89ABu

#endif

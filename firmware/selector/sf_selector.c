/*
 * subflash reference slot selector: the decision, as pure C99 over a flash view.
 * Spec: docs/module-firmware.md. Kept free of hardware access so the same code is unit-tested on the
 * host (firmware/host/sf_decide_cli.c) against the conformance table the TypeScript simulator passes.
 * SPDX-License-Identifier: MIT
 */
#include "sf_selector.h"

static uint32_t rd32(const uint8_t *p) {
  /* Little-endian by byte so the host build does not depend on alignment or host byte order. */
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Pointer to [addr, addr + len) inside the view, or 0 when any byte lies outside it. */
static const uint8_t *at(const sf_flash_view *f, uint32_t addr, uint32_t len) {
  uint32_t off = addr - f->base;
  if (addr < f->base || off > f->size || len > f->size - off) return 0;
  return f->mem + off;
}

/*
 * STM32 CRC-32 as the CRC unit computes it after reset (RM0444 §14, RM0090 §4: polynomial
 * 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final XOR) fed one little-endian word at a time,
 * which is also what the ROM's Get Checksum (AN3155 §3.14) returns. A trailing partial word is padded
 * with 0xFF explicitly rather than read from flash: L0/L1 flash erases to 0x00 (RM0367 §3.3), and the
 * gateway's CRC pads with 0xFF. Bitwise, no table: 2 KiB of flash matter more than boot time.
 */
uint32_t sf_crc32(const uint8_t *p, uint32_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  uint32_t i;
  for (i = 0; i < len; i += 4) {
    uint32_t w = 0, k;
    for (k = 0; k < 4; k++) w |= (uint32_t)(i + k < len ? p[i + k] : 0xFFu) << (8 * k);
    crc ^= w;
    for (k = 0; k < 32; k++) crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
  }
  return crc;
}

/* A copy is valid when magic "SFBR", version 1, slot bytes in range and the record CRC match. */
static const uint8_t *valid_copy(const sf_flash_view *f, uint32_t addr) {
  const uint8_t *r = at(f, addr, SF_RECORD_SIZE);
  if (!r) return 0;
  if (rd32(r) != 0x52424653u || r[4] != 1u) return 0;
  if (r[6] > 1u || (r[7] > 1u && r[7] != SF_NONE)) return 0;
  if (rd32(r + 28) != sf_crc32(r, 28)) return 0;
  return r;
}

static int marker_used(const uint8_t *r) {
  unsigned i;
  for (i = SF_MARKER_OFFSET; i < SF_RECORD_SIZE; i++)
    if (r[i] != 0xFFu) return 1;
  return 0;
}

/* Plausible vector table (docs/module-firmware.md step 6): the initial MSP (word 0) is a word-aligned
 * address in (ram_start, ram_end]; the reset vector (word 1) has bit 0 set (Thumb state, required by
 * ARMv6-M/ARMv7-M, ARM DDI 0403 §B1.5.2) and points inside the slot. An erased slot fails both. */
static int bootable(const sf_flash_view *f, const sf_layout *l, unsigned s, const uint8_t *rec) {
  uint32_t start = l->slot_addr[s], size = l->slot_size[s];
  const uint8_t *v = at(f, start, 8);
  uint32_t msp, pc;
  if (!v) return 0;
  msp = rd32(v);
  pc = rd32(v + 4);
  if ((msp & 3u) || msp <= l->ram_start || msp > l->ram_end) return 0;
  if (!(pc & 1u) || (pc & ~1u) < start + 8u || (pc & ~1u) - start >= size) return 0;
  /* The record's length and CRC describe its active slot only; length 0 means "unknown, no check". */
  if (rec && rec[6] == s) {
    uint32_t len = rd32(rec + 16);
    if (len) {
      const uint8_t *img = at(f, start, len);
      if (len > size || !img || sf_crc32(img, len) != rd32(rec + 20)) return 0;
    }
  }
  return 1;
}

void sf_decide(const sf_flash_view *f, const sf_layout *l, unsigned flags, sf_decision *d) {
  const uint8_t *c0 = valid_copy(f, l->record[0]);
  const uint8_t *c1 = valid_copy(f, l->record[1]);
  const uint8_t *rec = 0;
  unsigned first = 0, i;

  d->winner = SF_NONE;
  d->mark = SF_NONE;
  d->trial = 0;
  /* The valid copy with the highest sequence wins; equal sequences keep copy 0 (as the gateway's
   * decideBoot does). Neither valid: no record, boot slot A (factory state). */
  if (c0 && (!c1 || rd32(c0 + 8) >= rd32(c1 + 8))) {
    rec = c0;
    d->winner = 0;
  } else if (c1) {
    rec = c1;
    d->winner = 1;
  }
  if (rec) {
    first = rec[6];
    if (rec[5] & 1u) {
      if (!(flags & SF_TRIAL_USED) && !marker_used(rec)) {
        /* The one trial boot: the marker is programmed before anything of the slot runs, so any
         * reset from here on (crash, watchdog, power cut) falls back. */
        d->mark = d->winner;
        d->trial = 1;
      } else if (rec[7] != SF_NONE) {
        first = rec[7]; /* used trial, never confirmed: the fallback slot */
      }
    }
  }
  for (i = 0; i < 2; i++) {
    unsigned s = i ? 1u - first : first;
    if (bootable(f, l, s, rec)) {
      d->action = SF_BOOT_SLOT;
      d->slot = (uint8_t)s;
      d->target = l->slot_addr[s];
      if (!rec || s != rec[6]) d->trial = 0;
      return;
    }
  }
  /* Nothing bootable: the ROM bootloader, so the gateway can recover the module (AN2606). */
  d->action = SF_BOOT_ROM;
  d->slot = SF_NONE;
  d->trial = 0;
  d->target = l->sysmem;
}

/* SPDX-License-Identifier: MIT */
#include "model.h"

#include <string.h>

#include "sf_flash.h"

uint32_t sf_model_regs[64];
sf_model model;
static uint8_t staging[32];

static void violation(const char *what) {
  model.violations++;
  model.last_violation = what;
}

void model_reset(const sf_model_desc *d) {
  memset(&model, 0, sizeof model);
  memset(sf_model_regs, 0, 64 * sizeof(uint32_t));
  model.d = d;
  model.busy_length = 3;
  memset(model.flash, 0xFF, sizeof model.flash);
  sf_model_regs[d->cr / 4] = d->cr_reset;
}

uint32_t model_reg(unsigned offset) { return sf_model_regs[offset / 4]; }
void model_set_reg(unsigned offset, uint32_t value) { sf_model_regs[offset / 4] = value; }

static unsigned offset_of(volatile uint32_t *reg) {
  return (unsigned)((uintptr_t)reg - (uintptr_t)sf_model_regs);
}

uint32_t sf_model_read(volatile uint32_t *reg) {
  unsigned off = offset_of(reg);
  uint32_t v = sf_model_regs[off / 4];
  if (off == model.d->sr && model.busy_reads) {
    model.busy_reads--;
    v |= model.d->busy_bits;
  }
  return v;
}

static void key_write(int *state, uint32_t k1, uint32_t k2, uint32_t v, uint32_t clear_bit) {
  uint32_t *cr = &sf_model_regs[model.d->cr / 4];
  if (model.hard_locked) return;
  if (*state == 0 && v == k1) {
    *state = 1;
  } else if (*state == 1 && v == k2) {
    *state = 0;
    *cr &= ~clear_bit;
  } else {
    /* Any wrong key or order locks the interface until the next reset. */
    model.hard_locked = 1;
  }
}

void sf_model_write(volatile uint32_t *reg, uint32_t v) {
  const sf_model_desc *d = model.d;
  unsigned off = offset_of(reg);
  uint32_t *cr = &sf_model_regs[d->cr / 4], *sr = &sf_model_regs[d->sr / 4];
  if (model.busy_reads && off != d->sr) violation("register written while BSY");
  if (off == d->keyr) {
    key_write(&model.key_state, d->key1, d->key2, v, d->lock_bit);
  } else if (d->prgkeyr && off == d->prgkeyr) {
    if (*cr & d->lock_bit) model.hard_locked = 1; /* PRGKEYR before PEKEYR */
    else key_write(&model.prg_key_state, d->prgkey1, d->prgkey2, v, d->prglock_bit);
  } else if (off == d->cr) {
    if (*cr & d->lock_bit) return; /* CR is write-protected while locked */
    /* Lock bits can be set by software, never cleared (only the keys clear them). */
    *cr = (v & ~(d->lock_bit | d->prglock_bit)) | (*cr & d->prglock_bit) | (v & (d->lock_bit | d->prglock_bit));
    if (v & d->lock_bit) *cr |= d->prglock_bit;
  } else if ((d->ccr && off == d->ccr) || (!d->ccr && off == d->sr)) {
    *sr &= ~(v & (d->err_mask | d->eop_bit));
  } else {
    sf_model_regs[off / 4] = v;
  }
}

void sf_model_mem_write(uint32_t addr, uint32_t value, unsigned bytes) {
  const sf_model_desc *d = model.d;
  uint32_t cr = sf_model_regs[d->cr / 4], *sr = &sf_model_regs[d->sr / 4];
  unsigned off = addr - d->flash_base, i;
  model.accesses++;
  if (model.busy_reads) violation("flash written while BSY");
  if (bytes != d->access) violation("wrong access width");
  if (d->psize_mask && (cr & d->psize_mask) != d->psize_val) violation("PSIZE does not match the access width");
  if ((cr & (d->lock_bit | d->prglock_bit)) || (d->pg_bit && !(cr & d->pg_bit)) || (*sr & d->err_mask)) {
    /* Locked, PG clear, or an earlier error flag still set: the write is refused. */
    *sr |= d->err_seq;
    violation("flash written while locked, without PG, or with error flags set");
    return;
  }
  if (off >= MODEL_FLASH_SIZE || off + bytes > MODEL_FLASH_SIZE) {
    violation("outside the modelled flash");
    return;
  }
  if (model.pending == 0) {
    model.unit_start = off;
    if (off % d->unit) violation("unit not aligned");
  } else if (off != model.unit_start + model.pending) {
    violation("writes of one unit not consecutive");
  }
  for (i = 0; i < bytes && model.pending + i < sizeof staging; i++) staging[model.pending + i] = (uint8_t)(value >> (8 * i));
  model.pending += bytes;
  if (model.pending < d->unit) return;
  model.pending = 0;
  if (model.inject) {
    /* An injected error (e.g. write protection): nothing is programmed. */
    *sr |= model.inject;
    model.inject = 0;
  } else {
    /* Programming can only clear bits (erased = 1). */
    for (i = 0; i < d->unit; i++) model.flash[model.unit_start + i] &= staging[i];
  }
  model.busy_reads = model.busy_length;
  *sr |= d->eop_bit;
}

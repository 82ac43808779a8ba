/*
 * A behavioural model of one family's FLASH interface, for host tests of firmware/flash drivers:
 * key sequence (a wrong key locks until reset), LOCK bits, PG/PSIZE, program unit and access width,
 * BSY held for a few status reads after each unit, error flags (cleared by writing 1 to SR, or via
 * CCR on H7), and a small flash array with "program clears bits" semantics.
 * SPDX-License-Identifier: MIT
 */
#ifndef SF_MODEL_H
#define SF_MODEL_H
#include <stdint.h>

typedef struct {
  const char *name;
  unsigned keyr, cr, sr, ccr; /* byte offsets; ccr = 0 when flags are cleared by writing SR */
  uint32_t key1, key2;
  unsigned prgkeyr; /* L0/L1 second stage (PRGKEYR), 0 if none */
  uint32_t prgkey1, prgkey2;
  uint32_t cr_reset; /* CR/PECR after reset: locked */
  uint32_t lock_bit, prglock_bit, pg_bit, psize_mask, psize_val;
  uint32_t busy_bits, eop_bit, err_mask, err_wrp, err_seq;
  unsigned unit, access;
  uint32_t flash_base;
} sf_model_desc;

#define MODEL_FLASH_SIZE 256u

typedef struct {
  const sf_model_desc *d;
  int key_state, prg_key_state, hard_locked;
  unsigned busy_reads;  /* status reads left that report BSY */
  unsigned busy_length; /* BSY reads after each unit */
  unsigned pending, unit_start;
  uint32_t inject; /* error bits the next unit reports */
  unsigned accesses, violations;
  const char *last_violation;
  uint8_t flash[MODEL_FLASH_SIZE];
} sf_model;

extern sf_model model;
void model_reset(const sf_model_desc *d);
uint32_t model_reg(unsigned offset);
void model_set_reg(unsigned offset, uint32_t value);
#endif

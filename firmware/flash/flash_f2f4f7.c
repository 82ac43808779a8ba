/*
 * F2/F4/F7 flash programming, 32-bit words (PSIZE = x32).
 * RM0033 (F2) §2.3.4, RM0090 (F4) §3.5.4 "Programming" and §3.9 registers, RM0385 (F7) §3.3.4.
 * FLASH interface at 0x40023C00 on all three. PSIZE x32 needs VDD 2.7-3.6 V (RM0090 §3.5.4, Table 9,
 * "Program/erase parallelism"); on a lower-voltage board build with -DSF_F4_PSIZE_X16 (half-words).
 * SPDX-License-Identifier: MIT
 */
#include "sf_flash.h"

typedef struct {
  uint32_t ACR, KEYR, OPTKEYR, SR, CR, OPTCR;
} f4_flash;

#define FLASH SF_REGS_AT(f4_flash, 0x40023C00u)
#define SR_EOP (1u << 0)
#define SR_OPERR (1u << 1)
#define SR_WRPERR (1u << 4)
#define SR_PGAERR (1u << 5)
#define SR_PGPERR (1u << 6) /* access width does not match PSIZE */
#define SR_PGSERR (1u << 7) /* sequence error, e.g. PG not set */
#define SR_BSY (1u << 16)
#define SR_ERRORS (SR_OPERR | SR_WRPERR | SR_PGAERR | SR_PGPERR | SR_PGSERR)
#define CR_PG (1u << 0)
#define CR_LOCK (1u << 31)
#ifdef SF_F4_PSIZE_X16
#define CR_PSIZE (1u << 8)
#define UNIT 2u
#else
#define CR_PSIZE (2u << 8)
#define UNIT 4u
#endif

static void wait_idle(void) {
  while (SF_RD(FLASH->SR) & SR_BSY) {
  }
}

uint32_t sf_flash_program(uint32_t addr, const uint8_t *src, uint32_t len) {
  uint32_t err = 0, i;
  if ((addr | len) & (UNIT - 1u)) return SF_FLASH_EALIGN;
  wait_idle(); /* RM0090 §3.5.4 step 1: no operation ongoing */
  if (SF_RD(FLASH->CR) & CR_LOCK) {
    SF_WR(FLASH->KEYR, SF_KEY1); /* RM0090 §3.5.1 unlock sequence */
    SF_WR(FLASH->KEYR, SF_KEY2);
    if (SF_RD(FLASH->CR) & CR_LOCK) return SF_FLASH_ELOCKED;
  }
  /* A PGSERR/PGPERR left set blocks programming (RM0090 §3.7.5): clear all flags first (write 1). */
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP);
  SF_WR(FLASH->CR, CR_PSIZE | CR_PG);
  for (i = 0; i < len && !err; i += UNIT) {
    SF_MEM(addr + i, UNIT == 4u ? sf_le32(src + i) : ((uint32_t)src[i] | ((uint32_t)src[i + 1] << 8)), UNIT);
    SF_DSB();
    wait_idle();
    err = SF_RD(FLASH->SR) & SR_ERRORS;
  }
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP);
  SF_WR(FLASH->CR, CR_LOCK);
  return err;
}

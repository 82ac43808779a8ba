/*
 * F0/F1/F3 flash programming, half-word at a time.
 * RM0008 (F1) §3.3.3 "Main Flash memory programming", §3.4 registers; RM0091 (F0) §3.2.2 and §3.5;
 * RM0316 (F3) §4.2.2 and §4.5. FLASH interface at 0x40022000 (all three).
 * Limits: bank 2 of F1 XL-density parts (0x08080000 up, registers at +0x40, RM0008 §3.3.3) is not
 * handled; keep the boot records in bank 1.
 * SPDX-License-Identifier: MIT
 */
#include "sf_flash.h"

typedef struct {
  uint32_t ACR, KEYR, OPTKEYR, SR, CR, AR;
} f1_flash;

#define FLASH SF_REGS_AT(f1_flash, 0x40022000u)
#define SR_BSY (1u << 0)
#define SR_PGERR (1u << 2)    /* target half-word not erased */
#define SR_WRPRTERR (1u << 4) /* write-protected page */
#define SR_EOP (1u << 5)
#define SR_ERRORS (SR_PGERR | SR_WRPRTERR)
#define CR_PG (1u << 0)
#define CR_LOCK (1u << 7)

static void wait_idle(void) {
  while (SF_RD(FLASH->SR) & SR_BSY) {
  }
}

uint32_t sf_flash_program(uint32_t addr, const uint8_t *src, uint32_t len) {
  uint32_t err = 0, i;
  if ((addr | len) & 1u) return SF_FLASH_EALIGN;
  wait_idle();
  /* Unlock: KEY1 then KEY2 into FLASH_KEYR (RM0008 §3.3.1). A wrong key locks until reset. */
  if (SF_RD(FLASH->CR) & CR_LOCK) {
    SF_WR(FLASH->KEYR, SF_KEY1);
    SF_WR(FLASH->KEYR, SF_KEY2);
    if (SF_RD(FLASH->CR) & CR_LOCK) return SF_FLASH_ELOCKED;
  }
  /* Stale flags from someone else's operation would be misread as ours: clear (write 1). */
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP);
  SF_WR(FLASH->CR, CR_PG);
  for (i = 0; i < len && !err; i += 2) {
    /* PG set, one half-word write, wait for BSY to clear, then check (RM0008 §3.3.3 steps 2-4). */
    SF_MEM(addr + i, (uint32_t)src[i] | ((uint32_t)src[i + 1] << 8), 2u);
    wait_idle();
    err = SF_RD(FLASH->SR) & SR_ERRORS;
  }
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP);
  SF_WR(FLASH->CR, CR_LOCK);
  return err;
}

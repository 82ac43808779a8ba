/*
 * G0/G4/L4/WB flash programming, 64-bit double-words (two 32-bit writes, low address first).
 * RM0444 (G0) §3.3.7 "Flash main memory programming sequences" and §3.7 registers; RM0440 (G4) §3.3.7;
 * RM0351 (L4) §3.3.7; RM0434 (WB) §3.3.8. FLASH interface at 0x40022000 (G0, G4, L4) or 0x58004000
 * (WB, build with -DSF_FAMILY_WB). On WB the CPU2 semaphore (RM0434 §3.3.8 "PESD") is not taken:
 * program the marker before CPU2 is started, as a selector does.
 * SPDX-License-Identifier: MIT
 */
#include "sf_flash.h"

typedef struct {
  uint32_t ACR, PDKEYR, KEYR, OPTKEYR, SR, CR;
} g0_flash;

#ifdef SF_FAMILY_WB
#define FLASH SF_REGS_AT(g0_flash, 0x58004000u)
#else
#define FLASH SF_REGS_AT(g0_flash, 0x40022000u)
#endif
#define SR_EOP (1u << 0)
#define SR_OPERR (1u << 1)
#define SR_PROGERR (1u << 3) /* double-word not erased */
#define SR_WRPERR (1u << 4)
#define SR_PGAERR (1u << 5)
#define SR_SIZERR (1u << 6)
#define SR_PGSERR (1u << 7)
#define SR_MISSERR (1u << 8) /* second word of the double-word missing */
#define SR_FASTERR (1u << 9)
#define SR_RDERR (1u << 14)
#define SR_OPTVERR (1u << 15)
#define SR_BSY (1u << 16)
#define SR_CFGBSY (1u << 18) /* G0/G4/WB: PG/PNB may not be changed while set (RM0444 §3.7.5) */
#define SR_ERRORS                                                                                   \
  (SR_OPERR | SR_PROGERR | SR_WRPERR | SR_PGAERR | SR_SIZERR | SR_PGSERR | SR_MISSERR | SR_FASTERR |  \
   SR_RDERR | SR_OPTVERR)
#define CR_PG (1u << 0)
#define CR_LOCK (1u << 31)

static void wait_idle(void) {
  while (SF_RD(FLASH->SR) & (SR_BSY | SR_CFGBSY)) {
  }
}

uint32_t sf_flash_program(uint32_t addr, const uint8_t *src, uint32_t len) {
  uint32_t err = 0, i;
  if ((addr | len) & 7u) return SF_FLASH_EALIGN;
  wait_idle(); /* RM0444 §3.3.7 step 1 */
  if (SF_RD(FLASH->CR) & CR_LOCK) {
    SF_WR(FLASH->KEYR, SF_KEY1); /* RM0444 §3.3.6 */
    SF_WR(FLASH->KEYR, SF_KEY2);
    if (SF_RD(FLASH->CR) & CR_LOCK) return SF_FLASH_ELOCKED;
  }
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP); /* step 2: clear errors of previous operations */
  SF_WR(FLASH->CR, CR_PG);              /* step 3 */
  for (i = 0; i < len && !err; i += 8) {
    /* Step 4: the first word, then the second immediately (a gap triggers MISSERR). */
    SF_MEM(addr + i, sf_le32(src + i), 4u);
    SF_MEM(addr + i + 4, sf_le32(src + i + 4), 4u);
    SF_DSB();
    wait_idle(); /* step 5 */
    err = SF_RD(FLASH->SR) & SR_ERRORS;
  }
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP); /* step 6: EOP and errors are cleared by writing 1 */
  SF_WR(FLASH->CR, CR_LOCK);
  return err;
}

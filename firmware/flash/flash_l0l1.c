/*
 * L0/L1 flash programming, one 32-bit word at a time, after the two-stage PECR unlock.
 * RM0367 (L0x3) §3.3.4 "Program memory: Write/erase operations" (single word write), §3.3.4
 * unlocking (PEKEYR then PRGKEYR), §3.7 registers; RM0038 (L1) §3.3.4 and §3.8. The FLASH interface
 * is at 0x40022000 on L0 and at 0x40023C00 on L1 (build with -DSF_FAMILY_L1).
 * Note: erased flash reads 0x00 on these parts; a single-word write erases the word first when needed
 * (FIX = 0, RM0367 §3.3.4), so the gateway's 0xFF marker can be programmed to zeros.
 * SPDX-License-Identifier: MIT
 */
#include "sf_flash.h"

typedef struct {
  uint32_t ACR, PECR, PDKEYR, PEKEYR, PRGKEYR, OPTKEYR, SR;
} l0_flash;

#ifdef SF_FAMILY_L1
#define FLASH SF_REGS_AT(l0_flash, 0x40023C00u)
#else
#define FLASH SF_REGS_AT(l0_flash, 0x40022000u)
#endif
#define PECR_PELOCK (1u << 0)
#define PECR_PRGLOCK (1u << 1)
#define PEKEY1 0x89ABCDEFu
#define PEKEY2 0x02030405u
#define PRGKEY1 0x8C9DAEBFu
#define PRGKEY2 0x13141516u
#define SR_BSY (1u << 0)
#define SR_EOP (1u << 1)
#define SR_WRPERR (1u << 8)
#define SR_PGAERR (1u << 9)
#define SR_SIZERR (1u << 10)
#define SR_OPTVERR (1u << 11)
#define SR_RDERR (1u << 13)
#define SR_NOTZEROERR (1u << 16)
#define SR_FWWERR (1u << 17)
#define SR_ERRORS                                                                                   \
  (SR_WRPERR | SR_PGAERR | SR_SIZERR | SR_OPTVERR | SR_RDERR | SR_NOTZEROERR | SR_FWWERR)

static void wait_idle(void) {
  while (SF_RD(FLASH->SR) & SR_BSY) {
  }
}

uint32_t sf_flash_program(uint32_t addr, const uint8_t *src, uint32_t len) {
  uint32_t err = 0, i;
  if ((addr | len) & 3u) return SF_FLASH_EALIGN;
  wait_idle();
  /* Stage 1: PECR (PEKEYR), stage 2: program memory (PRGKEYR), RM0367 §3.3.4 "Unlocking". */
  if (SF_RD(FLASH->PECR) & PECR_PELOCK) {
    SF_WR(FLASH->PEKEYR, PEKEY1);
    SF_WR(FLASH->PEKEYR, PEKEY2);
  }
  if (SF_RD(FLASH->PECR) & PECR_PELOCK) return SF_FLASH_ELOCKED;
  if (SF_RD(FLASH->PECR) & PECR_PRGLOCK) {
    SF_WR(FLASH->PRGKEYR, PRGKEY1);
    SF_WR(FLASH->PRGKEYR, PRGKEY2);
  }
  if (SF_RD(FLASH->PECR) & PECR_PRGLOCK) {
    SF_WR(FLASH->PECR, PECR_PELOCK);
    return SF_FLASH_ELOCKED;
  }
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP); /* flags are cleared by writing 1 (RM0367 §3.7.5) */
  for (i = 0; i < len && !err; i += 4) {
    /* No PG bit: with PRGLOCK clear, a word write to program memory is a program (RM0367 §3.3.4). */
    SF_MEM(addr + i, sf_le32(src + i), 4u);
    wait_idle();
    err = SF_RD(FLASH->SR) & SR_ERRORS;
  }
  SF_WR(FLASH->SR, SR_ERRORS | SR_EOP);
  SF_WR(FLASH->PECR, PECR_PRGLOCK | PECR_PELOCK); /* PELOCK also re-locks PRGLOCK */
  return err;
}

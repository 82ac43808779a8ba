/*
 * H7 (H74x/75x, H72x/73x) flash programming, one 256-bit flash word (8 x 32-bit writes) at a time.
 * RM0433 §4.3.9 "Single write sequence", §4.3.7 (write buffer, QW flag) and §4.9 registers.
 * Bank 1 registers at 0x52002000; bank 2 (addresses from 0x08100000) at +0x100.
 * SPDX-License-Identifier: MIT
 */
#include "sf_flash.h"

typedef struct {
  uint32_t ACR, KEYR, OPTKEYR, CR, SR, CCR;
} h7_flash_bank;

#define BANK1 SF_REGS_AT(h7_flash_bank, 0x52002000u)
#define BANK2 SF_REGS_AT(h7_flash_bank, 0x52002100u)
#define CR_LOCK (1u << 0)
#define CR_PG (1u << 1)
#define CR_PSIZE_X64 (3u << 4)
#define SR_BSY (1u << 0)
#define SR_WBNE (1u << 1)
#define SR_QW (1u << 2) /* a flash word waits in the queue or is being written */
#define SR_EOP (1u << 16)
#define SR_WRPERR (1u << 17)
#define SR_PGSERR (1u << 18)
#define SR_STRBERR (1u << 19)
#define SR_INCERR (1u << 21) /* writes of one flash word not in increasing order */
#define SR_OPERR (1u << 22)
#define SR_RDPERR (1u << 23)
#define SR_RDSERR (1u << 24)
#define SR_SNECCERR (1u << 25)
#define SR_DBECCERR (1u << 26)
#define SR_ERRORS                                                                                   \
  (SR_WRPERR | SR_PGSERR | SR_STRBERR | SR_INCERR | SR_OPERR | SR_RDPERR | SR_RDSERR | SR_SNECCERR |  \
   SR_DBECCERR)

uint32_t sf_flash_program(uint32_t addr, const uint8_t *src, uint32_t len) {
  volatile h7_flash_bank *b = addr >= 0x08100000u ? BANK2 : BANK1;
  uint32_t err = 0, i, k;
  if ((addr | len) & 31u) return SF_FLASH_EALIGN;
  while (SF_RD(b->SR) & (SR_BSY | SR_QW | SR_WBNE)) {
  }
  if (SF_RD(b->CR) & CR_LOCK) {
    SF_WR(b->KEYR, SF_KEY1); /* RM0433 §4.5.1 */
    SF_WR(b->KEYR, SF_KEY2);
    if (SF_RD(b->CR) & CR_LOCK) return SF_FLASH_ELOCKED;
  }
  /* Flags are cleared through FLASH_CCR, not by writing SR (RM0433 §4.9.6). */
  SF_WR(b->CCR, SR_ERRORS | SR_EOP);
  SF_WR(b->CR, CR_PSIZE_X64 | CR_PG);
  for (i = 0; i < len && !err; i += 32) {
    /* A whole flash word, increasing addresses; the write buffer starts programming once full. */
    for (k = 0; k < 32; k += 4) SF_MEM(addr + i + k, sf_le32(src + i + k), 4u);
    SF_DSB();
    while (SF_RD(b->SR) & (SR_QW | SR_BSY)) {
    }
    err = SF_RD(b->SR) & SR_ERRORS;
  }
  SF_WR(b->CCR, SR_ERRORS | SR_EOP);
  SF_WR(b->CR, CR_PSIZE_X64 | CR_LOCK);
  return err;
}

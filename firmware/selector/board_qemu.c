/*
 * Board shim for the QEMU mps2-an385 test machine (Cortex-M3): it has no STM32 FLASH controller and
 * its "flash" (SSRAM1 at 0x00000000) is plain RAM, so the trial marker is programmed by direct word
 * stores. This exercises the selector's decision and ordering, not a flash driver (those are tested
 * against register models, firmware/test/flash).
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

int sf_board_program_marker(uint32_t addr) {
  volatile uint32_t *p = (volatile uint32_t *)addr;
  unsigned i;
  for (i = 0; i < 8; i++) p[i] = 0;
  return 0;
}

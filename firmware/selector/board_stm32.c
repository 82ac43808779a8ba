/*
 * Board shim for STM32 parts: the trial marker is programmed through the family's flash driver
 * (firmware/flash, chosen by the Makefile's FAMILY), 32 zero bytes, which is one whole number of
 * program units on every family (2, 4, 8 or 32 bytes).
 * SPDX-License-Identifier: MIT
 */
#include "../flash/sf_flash.h"

int sf_board_program_marker(uint32_t addr) {
  static const uint32_t zeros[8] = {0};
  return sf_flash_program(addr, (const uint8_t *)zeros, sizeof zeros) == SF_FLASH_OK ? 0 : -1;
}

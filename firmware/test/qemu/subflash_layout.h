/*
 * Layout for the QEMU mps2-an385 tests (Cortex-M3). The board's "flash" is SSRAM1 at 0x00000000
 * (RAM-like, 4 MiB) and its RAM is SSRAM2/3 at 0x20000000. The offsets mirror the STM32G071 example
 * of docs/module-firmware.md, moved to base 0; a stub standing in for the ROM bootloader sits at
 * SF_SYSMEM. SPDX-License-Identifier: MIT
 */
#ifndef SUBFLASH_LAYOUT_H
#define SUBFLASH_LAYOUT_H
#define SF_FLASH_BASE 0x00000000
#define SF_FLASH_SIZE 0x00020000
#define SF_SELECTOR_ADDR 0x00000000
#define SF_SELECTOR_SIZE 0x00002000
#define SF_RECORD0 0x00002000
#define SF_RECORD1 0x00002800
#define SF_SLOT_A 0x00004000
#define SF_SLOT_A_SIZE 0x0000E000
#define SF_SLOT_B 0x00012000
#define SF_SLOT_B_SIZE 0x0000E000
#define SF_RAM_START 0x20000000
#define SF_RAM_END 0x20010000
#define SF_SYSMEM 0x00100000
#define SF_SYSMEM_SIZE 0x00001000
#endif

/*
 * Layout the selector is built for: the STM32G071 example of docs/module-firmware.md ("Flash
 * layout"). Copy this file, change the numbers, rebuild. Plain #defines without C suffixes: the
 * linker script (selector.ld.S) is run through the C preprocessor with this header too.
 * SPDX-License-Identifier: MIT
 */
#ifndef SUBFLASH_LAYOUT_H
#define SUBFLASH_LAYOUT_H

/* Flash the selector may read (records and slots); STM32G071xB: 128 KiB at 0x08000000 (RM0444 §3.3.1). */
#define SF_FLASH_BASE 0x08000000
#define SF_FLASH_SIZE 0x00020000

/* The selector itself: pages 0-3 (2 KiB pages on G0, RM0444 §3.3.1). */
#define SF_SELECTOR_ADDR 0x08000000
#define SF_SELECTOR_SIZE 0x00002000

/* Boot-record copies, each at the start of an erase unit of its own (pages 4 and 5). */
#define SF_RECORD0 0x08002000
#define SF_RECORD1 0x08002800

#define SF_SLOT_A 0x08004000
#define SF_SLOT_A_SIZE 0x0000E000
#define SF_SLOT_B 0x08012000
#define SF_SLOT_B_SIZE 0x0000E000

/* SRAM: 36 KiB at 0x20000000 (RM0444 §2.2.2); a slot's initial MSP must lie in (start, end]. */
#define SF_RAM_START 0x20000000
#define SF_RAM_END 0x20009000

/* ROM bootloader (system memory) of G0: AN2606 "STM32G07xxx/G08xxx devices bootloader". */
#define SF_SYSMEM 0x1FFF0000

#endif

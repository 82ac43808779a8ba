/* Linker script of the selector, preprocessed with subflash_layout.h. SPDX-License-Identifier: MIT */
#include "subflash_layout.h"
MEMORY
{
  FLASH (rx) : ORIGIN = SF_SELECTOR_ADDR, LENGTH = SF_SELECTOR_SIZE
  RAM (rw) : ORIGIN = SF_RAM_START, LENGTH = SF_RAM_END - SF_RAM_START
}
__sf_stack_top = SF_RAM_END;
ENTRY(sf_reset)
SECTIONS
{
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM AT > FLASH
  .bss : { *(.bss*) *(COMMON) } > RAM
  /DISCARD/ : { *(.ARM.exidx*) *(.comment) }
}
/* The shim copies nothing at start-up: it must not need initialised or zeroed RAM. */
ASSERT(SIZEOF(.data) == 0 && SIZEOF(.bss) == 0, "the selector must not use .data or .bss")

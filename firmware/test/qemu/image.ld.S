/* Linker script of the QEMU test images: slot A app, slot B app, ROM-bootloader stub.
 * SPDX-License-Identifier: MIT */
#include "subflash_layout.h"
#if defined(IMAGE_app_a)
#define ORG SF_SLOT_A
#define LEN SF_SLOT_A_SIZE
#elif defined(IMAGE_app_b)
#define ORG SF_SLOT_B
#define LEN SF_SLOT_B_SIZE
#else
#define ORG SF_SYSMEM
#define LEN SF_SYSMEM_SIZE
#endif
MEMORY { IMAGE (rx) : ORIGIN = ORG, LENGTH = LEN }
__stack_top = SF_RAM_END;
ENTRY(app_reset)
SECTIONS
{
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > IMAGE
  /DISCARD/ : { *(.ARM.exidx*) *(.comment) *(.data*) *(.bss*) }
}

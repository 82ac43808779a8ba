/*
 * The selector's boot shim on Cortex-M: decide, program the trial marker, start the vector table.
 * Runs straight out of reset with the reset clock (HSI/MSI), no .data/.bss and no interrupts, so
 * there is nothing to de-initialise before the jump.
 * SPDX-License-Identifier: MIT
 */
#include "sf_selector.h"
#include "subflash_layout.h"

/* Programs the 32-byte trial marker at `addr` to zeros; 0 on success. board_*.c. */
int sf_board_program_marker(uint32_t addr);

static const sf_layout layout = {
    {SF_RECORD0, SF_RECORD1},
    {SF_SLOT_A, SF_SLOT_B},
    {SF_SLOT_A_SIZE, SF_SLOT_B_SIZE},
    SF_RAM_START,
    SF_RAM_END,
    SF_SYSMEM,
};

/* SCB->VTOR, ARMv7-M ARM (DDI 0403) §B3.2.5; optional on ARMv6-M. Cortex-M0 (F0) has none: define
 * SF_NO_VTOR there, and the application copies its vectors to SRAM and remaps SRAM at 0 through
 * SYSCFG_CFGR1.MEM_MODE (RM0091 §9.1.1). */
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

__attribute__((noreturn)) static void start(uint32_t vt) {
  const volatile uint32_t *v = (const volatile uint32_t *)vt;
  uint32_t msp = v[0], pc = v[1];
#ifndef SF_NO_VTOR
  SCB_VTOR = vt;
#endif
  /* Barriers: the new VTOR and the flash marker write are visible before the first fetch there. */
  __asm volatile("dsb\n\tisb" ::: "memory");
  __asm volatile("msr msp, %0\n\tbx %1" : : "r"(msp), "r"(pc) : "memory");
  for (;;) {
  }
}

__attribute__((noreturn)) void sf_reset(void) {
  sf_flash_view flash = {SF_FLASH_BASE, SF_FLASH_SIZE, (const uint8_t *)SF_FLASH_BASE};
  sf_decision d;
  sf_decide(&flash, &layout, 0, &d);
  /* The marker goes to flash before the trial slot runs (docs/module-firmware.md step 4). If it cannot
   * be programmed, decide again as if the trial were used: never boot a trial that cannot expire. */
  if (d.mark != SF_NONE && sf_board_program_marker(layout.record[d.mark] + SF_MARKER_OFFSET) != 0)
    sf_decide(&flash, &layout, SF_TRIAL_USED, &d);
  start(d.target);
}

/* A fault inside the selector means broken flash contents it read: hand over to the ROM bootloader. */
__attribute__((noreturn)) static void sf_fault(void) { start(SF_SYSMEM); }

extern uint32_t __sf_stack_top;
__attribute__((section(".vectors"), used)) static void (*const vectors[4])(void) = {
    (void (*)(void))(&__sf_stack_top),
    sf_reset,
    sf_fault, /* NMI */
    sf_fault, /* HardFault */
};

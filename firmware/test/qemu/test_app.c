/*
 * Tiny test images for QEMU: a slot application (SLOT_NAME "A" or "B") that reports which slot runs
 * and the state of both trial markers, or (ROM_STUB) the stand-in for the ROM bootloader. Output goes
 * through Arm semihosting (SYS_WRITE0 0x04, SYS_EXIT 0x18; "Semihosting for AArch32 and AArch64",
 * ARM IHI 0073), then QEMU exits.
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "subflash_layout.h"

static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

#ifndef ROM_STUB
static char marker(uint32_t record) {
  const volatile uint8_t *m = (const volatile uint8_t *)(record + 32);
  unsigned i;
  for (i = 0; i < 32; i++)
    if (m[i] != 0xFF) return 'U';
  return 'E';
}
#endif

__attribute__((noreturn)) void app_reset(void) {
#ifdef ROM_STUB
  char line[] = "bootloader\n";
#else
  char line[] = "slot=" SLOT_NAME " marks=??\n";
  line[13] = marker(SF_RECORD0);
  line[14] = marker(SF_RECORD1);
#endif
  semihost(0x04, line);
  semihost(0x18, (const void *)0x20026); /* ADP_Stopped_ApplicationExit */
  for (;;) {
  }
}

extern uint32_t __stack_top;
__attribute__((section(".vectors"), used)) static void (*const vectors[2])(void) = {
    (void (*)(void))(&__stack_top),
    app_reset,
};

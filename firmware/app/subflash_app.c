/*
 * subflash application kit. See subflash_app.h and docs/module-firmware.md.
 * SPDX-License-Identifier: MIT
 */
#include "subflash_app.h"

void sf_app_parser_init(sf_app_parser *p) {
  p->len = 0;
  p->overflow = 0;
}

static int equals(const sf_app_parser *p, const char *s) {
  unsigned i;
  for (i = 0; i < p->len; i++)
    if (s[i] != p->line[i]) return 0;
  return s[p->len] == 0;
}

sf_app_command sf_app_feed(sf_app_parser *p, uint8_t byte) {
  sf_app_command c = SF_APP_NONE;
  if (p->len < SF_APP_LINE_MAX) p->line[p->len++] = (char)byte;
  else p->overflow = 1;
  if (byte != '\n') return SF_APP_NONE;
  if (!p->overflow) {
    /* Whole lines only, compared byte for byte, as the gateway sends them. */
    if (equals(p, SF_APP_PROBE)) c = SF_APP_PROBE_REQUEST;
    else if (equals(p, SF_APP_BOOT_COMMAND)) c = SF_APP_BOOT_REQUEST;
  }
  sf_app_parser_init(p);
  return c;
}

unsigned sf_app_probe_reply(char *buf, unsigned cap, const char *version) {
  static const char head[] = "subflash-app ", tail[] = " ok\n";
  unsigned n = 0, i;
  for (i = 0; head[i]; i++, n++)
    if (n < cap) buf[n] = head[i];
  for (i = 0; version[i]; i++, n++)
    if (n < cap) buf[n] = version[i];
  for (i = 0; tail[i]; i++, n++)
    if (n < cap) buf[n] = tail[i];
  if (n > cap) return 0;
  if (n < cap) buf[n] = 0;
  return n;
}

#ifndef SF_APP_HOST
#include "sf_sysmem.h"

#define REG(a) (*(volatile uint32_t *)(a))
/* System control space, ARMv7-M ARM (DDI 0403) §B3.2, §B3.3, §B3.4; ARMv6-M ARM (DDI 0419) §B3. */
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define NVIC_ICER 0xE000E180u
#define NVIC_ICPR 0xE000E280u
#define SCB_VTOR 0xE000ED08u
#if defined(__ARM_ARCH_6M__)
#define NVIC_WORDS 1u /* ARMv6-M: 32 interrupts, one ICER/ICPR word */
#else
#define NVIC_WORDS 8u
#endif

__attribute__((weak)) void sf_app_deinit_hook(void) {}

__attribute__((noreturn)) void subflash_enter_bootloader(void) {
  const volatile uint32_t *rom = (const volatile uint32_t *)SF_SYSMEM_ADDR;
  uint32_t msp, pc, i;
  /* 1. The application's own de-initialisation (clocks back to the reset clock, peripherals): the ROM
   *    bootloader assumes reset-state clocks (AN2606, "Bootloader activation"; it configures HSI
   *    itself and some versions check that the PLL is off). */
  sf_app_deinit_hook();
  /* 2. No interrupt may fire between here and the ROM's own set-up. */
  __asm volatile("cpsid i" ::: "memory");
  REG(SYST_CSR) = 0;
  REG(SYST_RVR) = 0;
  REG(SYST_CVR) = 0;
  for (i = 0; i < NVIC_WORDS; i++) {
    REG(NVIC_ICER + 4u * i) = 0xFFFFFFFFu;
    REG(NVIC_ICPR + 4u * i) = 0xFFFFFFFFu;
  }
#if defined(SF_SYSMEM_REMAP_SYSCFG)
  /* 3. F0/G0/L0/C0: map system memory at 0x00000000 (SYSCFG_CFGR1.MEM_MODE = 01: RM0091 §9.1.1,
   *    RM0444 §10.1.1, RM0367 §10.2.1), as a boot with BOOT0 high would; on Cortex-M0 (F0, no VTOR)
   *    this is the only way the ROM's vector table is used. SYSCFG clock first. */
  REG(SF_SYSCFG_RCC_ENR) |= SF_SYSCFG_RCC_BIT;
  (void)REG(SF_SYSCFG_RCC_ENR);
  REG(0x40010000u) = (REG(0x40010000u) & ~3u) | 1u;
#endif
#if !defined(SF_NO_VTOR)
  REG(SCB_VTOR) = SF_SYSMEM_ADDR;
#endif
  msp = rom[0];
  pc = rom[1];
  /* 4. Nothing is enabled in the NVIC any more, so PRIMASK can be released: ROM bootloaders that
   *    use interrupts (I2C, USB, CAN variants) would otherwise never see them. Thread mode on MSP
   *    (CONTROL = 0), then MSP from system memory word 0 and branch to word 1. */
  __asm volatile("msr control, %0\n\tisb\n\tcpsie i\n\tmsr msp, %1\n\tbx %2" : : "r"(0u), "r"(msp), "r"(pc) : "memory");
  for (;;) {
  }
}
#endif

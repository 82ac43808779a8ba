/*
 * Example application for the G071 layout: answers the gateway's health probe on USART2 and enters
 * the ROM bootloader on "!boot\n". Clock and USART2 set-up (115200 8N1, the gateway's default) are
 * left to your HAL; this file shows the subflash part only. Build: make -C firmware example.
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "subflash_app.h"

#ifndef APP_VERSION
#define APP_VERSION "1.0.0"
#endif

/* USART2 on G0 (RM0444 §33.8): ISR.RXNE_RXFNE bit 5, ISR.TXE_TXFNF bit 7, RDR 0x24, TDR 0x28. */
#define USART2_ISR (*(volatile uint32_t *)0x4000441Cu)
#define USART2_RDR (*(volatile uint32_t *)0x40004424u)
#define USART2_TDR (*(volatile uint32_t *)0x40004428u)

static void send(const char *s, unsigned n) {
  unsigned i;
  for (i = 0; i < n; i++) {
    while (!(USART2_ISR & (1u << 7))) {
    }
    USART2_TDR = (uint8_t)s[i];
  }
}

__attribute__((noreturn)) void Reset_Handler(void) {
  sf_app_parser p;
  char reply[48];
  sf_app_parser_init(&p);
  for (;;) {
    if (USART2_ISR & (1u << 5)) {
      switch (sf_app_feed(&p, (uint8_t)USART2_RDR)) {
      case SF_APP_PROBE_REQUEST:
        send(reply, sf_app_probe_reply(reply, sizeof reply, APP_VERSION));
        break;
      case SF_APP_BOOT_REQUEST:
        subflash_enter_bootloader();
      default:
        break;
      }
    }
  }
}

extern uint32_t _estack;
__attribute__((section(".isr_vector"), used)) static void (*const vectors[2])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
};

/*
 * subflash application kit: what an application needs so the gateway can check and update it
 * (docs/module-firmware.md, "The application itself needs nothing from subflash, except..."):
 *  - the uart-probe health check: "?\n" -> "subflash-app <version> ok\n" (the gateway's default
 *    health.send and health.expect, src/gateway/config-schema.ts);
 *  - the app-command entry: "!boot\n" (or your entry.send) -> subflash_enter_bootloader().
 * SPDX-License-Identifier: MIT
 */
#ifndef SUBFLASH_APP_H
#define SUBFLASH_APP_H

#include <stdint.h>

#ifndef SF_APP_PROBE
#define SF_APP_PROBE "?\n"
#endif
#ifndef SF_APP_BOOT_COMMAND
#define SF_APP_BOOT_COMMAND "!boot\n"
#endif
/* Longest line the parser keeps; longer lines are dropped up to their newline. */
#define SF_APP_LINE_MAX 32u

typedef enum { SF_APP_NONE = 0, SF_APP_PROBE_REQUEST, SF_APP_BOOT_REQUEST } sf_app_command;

typedef struct {
  char line[SF_APP_LINE_MAX];
  unsigned len;
  unsigned overflow;
} sf_app_parser;

void sf_app_parser_init(sf_app_parser *p);
/* Feeds one received byte; returns the command a complete line ("...\n") matches, byte for byte. */
sf_app_command sf_app_feed(sf_app_parser *p, uint8_t byte);
/* Writes "subflash-app <version> ok\n" into buf (NUL-terminated if room); returns its length, or 0
 * when it does not fit. */
unsigned sf_app_probe_reply(char *buf, unsigned cap, const char *version);

#ifndef SF_APP_HOST
/* Called first by subflash_enter_bootloader: de-initialise what the kit cannot know about (clock
 * tree back to HSI/MSI with PLLs off, peripherals, DMA), e.g. HAL_RCC_DeInit() and HAL_DeInit().
 * Weak, empty by default. */
void sf_app_deinit_hook(void);
/* Jumps to the ROM bootloader at SF_SYSMEM_ADDR (sf_sysmem.h, build with -DSF_PID=0x...). */
__attribute__((noreturn)) void subflash_enter_bootloader(void);
#endif

#endif

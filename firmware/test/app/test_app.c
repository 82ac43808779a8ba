/*
 * Host tests of the application kit's probe responder and command parser.
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sf_sysmem.h"
#include "subflash_app.h"

static sf_app_command feed(sf_app_parser *p, const char *s) {
  sf_app_command c = SF_APP_NONE;
  for (; *s; s++) {
    sf_app_command r = sf_app_feed(p, (uint8_t)*s);
    if (r != SF_APP_NONE) c = r;
  }
  return c;
}

int main(void) {
  sf_app_parser p;
  char buf[64];
  unsigned n;
  unsigned long i;
  sf_app_parser_init(&p);

  assert(feed(&p, "?\n") == SF_APP_PROBE_REQUEST);
  n = sf_app_probe_reply(buf, sizeof buf, "1.4.2");
  assert(n == strlen("subflash-app 1.4.2 ok\n") && strcmp(buf, "subflash-app 1.4.2 ok\n") == 0);
  puts("  ok - answers \"?\\n\" with \"subflash-app <version> ok\\n\" (the gateway's default probe)");

  assert(feed(&p, "!boot\n") == SF_APP_BOOT_REQUEST);
  puts("  ok - recognises \"!boot\\n\" as the enter-bootloader command");

  assert(feed(&p, "?x\n") == SF_APP_NONE);
  assert(feed(&p, "?\r\n") == SF_APP_NONE);
  assert(feed(&p, "!boot now\n") == SF_APP_NONE);
  puts("  ok - ignores lines that differ by any byte");

  for (i = 0; i < 100; i++) assert(sf_app_feed(&p, '?') == SF_APP_NONE);
  assert(feed(&p, "\n") == SF_APP_NONE);
  assert(feed(&p, "?\n") == SF_APP_PROBE_REQUEST);
  puts("  ok - drops an overlong line up to its newline, then parses the next one");

  assert(sf_app_probe_reply(buf, 10, "1.4.2") == 0);
  puts("  ok - refuses to build a reply that does not fit");

  /* The generated table: G071 (PID 0x460) system memory per AN2606. */
  assert(sf_sysmem_for_pid(0x460) == 0x1FFF0000u);
  assert(sf_sysmem_for_pid(0x410) == 0x1FFFF000u);
  assert(sf_sysmem_for_pid(0x450) == 0x1FF09800u);
  assert(sf_sysmem_for_pid(0x999) == 0);
  puts("  ok - the generated header gives the system-memory address per product ID");
  return 0;
}

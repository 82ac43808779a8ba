/*
 * Host front end of the C selector, for conformance tests: reads a flash image file, runs sf_decide
 * and prints the decision as one line of JSON.
 *
 *   sf_decide_cli IMAGE base=0x08000000 rec0=0x08002000 rec1=0x08002800 \
 *     a=0x08004000:0xE000 b=0x08012000:0xE000 ram=0x20000000:0x20009000 sysmem=0x1FFF0000 [used=1]
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../selector/sf_selector.h"

static int pair(const char *v, uint32_t *x, uint32_t *y) {
  char *end;
  *x = (uint32_t)strtoul(v, &end, 0);
  if (*end != ':') return 0;
  *y = (uint32_t)strtoul(end + 1, &end, 0);
  return *end == 0;
}

int main(int argc, char **argv) {
  sf_layout l;
  sf_flash_view f;
  sf_decision d;
  unsigned flags = 0, seen = 0;
  uint8_t *mem;
  long n;
  FILE *fp;
  int i;
  if (argc < 2) {
    fprintf(stderr, "usage: %s IMAGE base= rec0= rec1= a=addr:size b=addr:size ram=start:end sysmem= [used=1]\n", argv[0]);
    return 2;
  }
  memset(&l, 0, sizeof l);
  memset(&f, 0, sizeof f);
  for (i = 2; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    const char *v = eq ? eq + 1 : "";
    size_t k = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
    int ok = 1;
    if (k == 4 && !strncmp(argv[i], "base", 4)) f.base = (uint32_t)strtoul(v, 0, 0), seen |= 1;
    else if (k == 4 && !strncmp(argv[i], "rec0", 4)) l.record[0] = (uint32_t)strtoul(v, 0, 0), seen |= 2;
    else if (k == 4 && !strncmp(argv[i], "rec1", 4)) l.record[1] = (uint32_t)strtoul(v, 0, 0), seen |= 4;
    else if (k == 1 && argv[i][0] == 'a') ok = pair(v, &l.slot_addr[0], &l.slot_size[0]), seen |= 8;
    else if (k == 1 && argv[i][0] == 'b') ok = pair(v, &l.slot_addr[1], &l.slot_size[1]), seen |= 16;
    else if (k == 3 && !strncmp(argv[i], "ram", 3)) ok = pair(v, &l.ram_start, &l.ram_end), seen |= 32;
    else if (k == 6 && !strncmp(argv[i], "sysmem", 6)) l.sysmem = (uint32_t)strtoul(v, 0, 0), seen |= 64;
    else if (k == 4 && !strncmp(argv[i], "used", 4)) flags = strtoul(v, 0, 0) ? SF_TRIAL_USED : 0;
    else ok = 0;
    if (!ok) {
      fprintf(stderr, "bad argument: %s\n", argv[i]);
      return 2;
    }
  }
  if (seen != 127) {
    fprintf(stderr, "missing arguments (need base, rec0, rec1, a, b, ram, sysmem)\n");
    return 2;
  }
  fp = fopen(argv[1], "rb");
  if (!fp || fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
    perror(argv[1]);
    return 2;
  }
  mem = malloc(n ? (size_t)n : 1u);
  if (!mem || fread(mem, 1, (size_t)n, fp) != (size_t)n) {
    perror(argv[1]);
    return 2;
  }
  fclose(fp);
  f.size = (uint32_t)n;
  f.mem = mem;
  sf_decide(&f, &l, flags, &d);
  printf("{\"boot\":\"%s\",\"target\":%lu,\"winner\":", d.action == SF_BOOT_ROM ? "bootloader" : d.slot ? "b" : "a",
         (unsigned long)d.target);
  if (d.winner == SF_NONE) printf("null"); else printf("%u", (unsigned)d.winner);
  printf(",\"mark\":");
  if (d.mark == SF_NONE) printf("null"); else printf("%u", (unsigned)d.mark);
  printf(",\"trial\":%s}\n", d.trial ? "true" : "false");
  free(mem);
  return 0;
}

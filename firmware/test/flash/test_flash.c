/*
 * Host tests of one flash driver (selected by SF_TEST_DRIVER_<file>) against a model of its
 * family's FLASH interface (model.c). Plain asserts; exit status 0 when all pass.
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "sf_flash.h"

/* Register offsets and bits per family, from the reference manuals cited in each driver. */
#if defined(SF_TEST_DRIVER_f0f1f3)
static const sf_model_desc desc = {
    .name = "F0/F1/F3 (RM0008 3.3)", .keyr = 0x04, .sr = 0x0C, .cr = 0x10,
    .key1 = 0x45670123u, .key2 = 0xCDEF89ABu, .cr_reset = 1u << 7, .lock_bit = 1u << 7, .pg_bit = 1u << 0,
    .busy_bits = 1u << 0, .eop_bit = 1u << 5, .err_mask = (1u << 2) | (1u << 4), .err_wrp = 1u << 4,
    .err_seq = 1u << 2, .unit = 2, .access = 2, .flash_base = 0x08002000u};
#elif defined(SF_TEST_DRIVER_f2f4f7)
static const sf_model_desc desc = {
    .name = "F2/F4/F7 (RM0090 3.5)", .keyr = 0x04, .sr = 0x0C, .cr = 0x10,
    .key1 = 0x45670123u, .key2 = 0xCDEF89ABu, .cr_reset = 1u << 31, .lock_bit = 1u << 31, .pg_bit = 1u << 0,
    .psize_mask = 3u << 8, .psize_val = 2u << 8, .busy_bits = 1u << 16, .eop_bit = 1u << 0, .err_mask = 0xF2u,
    .err_wrp = 1u << 4, .err_seq = 1u << 7, .unit = 4, .access = 4, .flash_base = 0x08002000u};
#elif defined(SF_TEST_DRIVER_g0g4l4wb)
static const sf_model_desc desc = {
    .name = "G0/G4/L4/WB (RM0444 3.3)", .keyr = 0x08, .sr = 0x10, .cr = 0x14,
    .key1 = 0x45670123u, .key2 = 0xCDEF89ABu, .cr_reset = (1u << 31) | (1u << 30), .lock_bit = 1u << 31,
    .pg_bit = 1u << 0, .busy_bits = 1u << 16, .eop_bit = 1u << 0, .err_mask = 0xC3FAu, .err_wrp = 1u << 4,
    .err_seq = 1u << 7, .unit = 8, .access = 4, .flash_base = 0x08002000u};
#elif defined(SF_TEST_DRIVER_l0l1)
static const sf_model_desc desc = {
    .name = "L0/L1 (RM0367 3.3)", .keyr = 0x0C, .prgkeyr = 0x10, .sr = 0x18, .cr = 0x04,
    .key1 = 0x89ABCDEFu, .key2 = 0x02030405u, .prgkey1 = 0x8C9DAEBFu, .prgkey2 = 0x13141516u, .cr_reset = 0x7u,
    .lock_bit = 1u << 0, .prglock_bit = 1u << 1, .busy_bits = 1u << 0, .eop_bit = 1u << 1, .err_mask = 0x32F00u,
    .err_wrp = 1u << 8, .err_seq = 1u << 10, .unit = 4, .access = 4, .flash_base = 0x08002000u};
#elif defined(SF_TEST_DRIVER_h7)
static const sf_model_desc desc = {
    .name = "H7 (RM0433 4.3)", .keyr = 0x04, .cr = 0x0C, .sr = 0x10, .ccr = 0x14,
    .key1 = 0x45670123u, .key2 = 0xCDEF89ABu, .cr_reset = 0x31u, .lock_bit = 1u << 0, .pg_bit = 1u << 1,
    .psize_mask = 3u << 4, .psize_val = 3u << 4, .busy_bits = (1u << 0) | (1u << 2), .eop_bit = 1u << 16,
    .err_mask = 0x07EE0000u, .err_wrp = 1u << 17, .err_seq = 1u << 18, .unit = 32, .access = 4,
    .flash_base = 0x08002000u};
#else
#error "define SF_TEST_DRIVER_<driver>"
#endif

static const uint8_t zeros[32];
#define MARKER 0x08002020u
#define MARKER_OFF 0x20u

static int erased(unsigned from, unsigned n) {
  unsigned i;
  for (i = 0; i < n; i++)
    if (model.flash[from + i] != 0xFF) return 0;
  return 1;
}

static int locked(void) { return (model_reg(desc.cr) & desc.lock_bit) != 0; }

static void it(const char *sentence) { printf("  ok - %s: %s\n", desc.name, sentence); }

int main(void) {
  uint32_t r;

  model_reset(&desc);
  model.busy_length = 5;
  r = sf_flash_program(MARKER, zeros, 32);
  assert(r == SF_FLASH_OK);
  assert(model.violations == 0);
  assert(memcmp(model.flash + MARKER_OFF, zeros, 32) == 0);
  assert(erased(0, MARKER_OFF) && erased(MARKER_OFF + 32, MODEL_FLASH_SIZE - MARKER_OFF - 32));
  assert(model.accesses == 32 / desc.access);
  it("programs the 32-byte marker in whole program units with the right access width");
  assert(model.busy_reads == 0);
  it("waits for BSY to clear after every unit before the next write and before returning");
  assert(locked());
  it("leaves the interface locked");

  model_reset(&desc);
  /* Stray code wrote a wrong key: the interface stays locked until reset. */
  sf_model_write(&sf_model_regs[desc.keyr / 4], 0x12345678u);
  r = sf_flash_program(MARKER, zeros, 32);
  assert(r == SF_FLASH_ELOCKED);
  assert(model.accesses == 0 && erased(0, MODEL_FLASH_SIZE));
  it("reports ELOCKED and writes nothing when a wrong key sequence locked the interface");

  model_reset(&desc);
  model.inject = desc.err_wrp;
  r = sf_flash_program(MARKER, zeros, 32);
  assert(r == desc.err_wrp);
  assert((model_reg(desc.sr) & desc.err_mask) == 0);
  assert(erased(0, MODEL_FLASH_SIZE));
  assert(locked());
  assert(model.accesses == desc.unit / desc.access);
  it("reports a write-protection error, stops, clears the flags and relocks");

  model_reset(&desc);
  model_set_reg(desc.sr, desc.err_seq);
  r = sf_flash_program(MARKER, zeros, 32);
  assert(r == SF_FLASH_OK && model.violations == 0);
  assert(memcmp(model.flash + MARKER_OFF, zeros, 32) == 0);
  it("clears a stale error flag left by an earlier operation before programming");

  model_reset(&desc);
  r = sf_flash_program(MARKER + 1, zeros, 32);
  assert(r == SF_FLASH_EALIGN && model.accesses == 0);
  it("refuses an address that is not a whole program unit");
  return 0;
}

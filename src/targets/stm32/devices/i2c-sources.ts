/**
 * Where the table's I2C bootloader facts come from. AN2606 gives each part's I2C configuration in
 * the chapter of its line ("I2Cx configuration … Slave 7-bit address: 0bxxxxxxxx"), but only its
 * title pages were at hand: every address below is the AN2606 value as a public source quotes or
 * measured it, named with its repository and commit or its address. Parts whose address no public
 * source gives carry none; the host then needs it from the user or a bus scan (bootloader I2C v1.2
 * answers i2cdetect probes, AN4221).
 */
import type { I2cBootloaderFacts, I2cPort } from "../device.js";

const ST_COMMUNITY_G030 =
  "ST community thread 'STM32G030F6 I2C Bootloader V1.2' (community.st.com/s/question/0D53W00000bfOip, 2021-03-10): an ST employee quotes AN2606 rev 47";

/** I2C1 on PB6 (SCL) / PB7 (SDA): the bootloader pins of most G0, L0 and L4 parts (AN2606). */
const I2C1_PB6_PB7: I2cPort = { instance: "I2C1", scl: "PB6", sda: "PB7" };

/** STM32G03x/G04x (0x466): 0b1010110x = 0x56. */
export const G03X_I2C: I2cBootloaderFacts = {
  ports: [I2C1_PB6_PB7],
  address: {
    source: `AN2606 "STM32G03xxx/04xxx devices bootloader", I2C1 configuration "0b1010110x" (rev 45 printed 0x51 by mistake); ${ST_COMMUNITY_G030}, where the user also measured 0x56 and Get Version 0x12; pins PB6/PB7 from qa-community.st.com thread 'I2C bootloader on STM32G03x problem'`,
    confidence: "high",
  },
};

/** STM32G07x/G08x (0x460): 0b1010001x = 0x51. */
export const G07X_I2C: I2cBootloaderFacts = {
  address: {
    source: `AN2606 "STM32G07xxx/08xxx devices bootloader" "0b1010001x", as quoted in Linux drivers/usb/typec/ucsi/ucsi_stm32g0.c (STM32G0_I2C_BL_ADDR, torvalds/linux @ 34069d12e239ae8f36dd96c378e4622fb1c42a76, by an ST author); confirmed as the G07x/G08x address in the ${ST_COMMUNITY_G030}`,
    confidence: "high",
  },
};

/** STM32G0B0/B1/C1 (0x467): the instances, not the address. */
export const G0B1_I2C: I2cBootloaderFacts = {
  ports: [{ instance: "I2C1" }, { instance: "I2C2" }],
  source:
    'AN2606 "STM32G0B1xx/0C1xx devices bootloader" table, as a public hardware design note quotes it ("I2C1 or I2C2 — the pins within each are fixed"); the address is in no source we found',
};

/** STM32G491/G4A1 (0x479): 0x5F. */
export const G491_I2C: I2cBootloaderFacts = {
  address: {
    source:
      'AN2606 "STM32G491xx/4A1xx devices bootloader", as reported in the ST community thread \'I2C Bootloader Slave address\' (community.st.com/t5/stm32-mcus-products/i2c-bootloader-slave-address/td-p/814938, 2025-06-20): a G491 answers at 0x5F, "also confirmed in AN2606"',
    confidence: "medium",
  },
};

/** STM32H7A3/B3/B0 (0x480): 0x57; AN2606 prints it with one bit too many ("0b10101111x"). */
export const H7A3_I2C: I2cBootloaderFacts = {
  ports: [{ instance: "I2C1", scl: "PB6", sda: "PB9" }],
  address: {
    source:
      'AN2606 "STM32H7A3xx/B3xx devices bootloader" (rev 53), which prints "0b10101111x"; ST community thread \'What I2C device address to use for STM32 slave bootloader?\' (community.st.com/t5/stm32-mcus-embedded-software/what-i2c-device-address-to-use-for-stm32-slave-bootloader/td-p/104557, 2022-03): 0x57 (0xAE written), working once SCL was on PB6 as AN2606 requires (SDA PB9)',
    confidence: "medium",
  },
};

/** STM32L07x/L08x (0x447): 0x42, the address a user took from AN2606; pins PB6/PB7. */
export const L07X_I2C: I2cBootloaderFacts = {
  ports: [I2C1_PB6_PB7],
  address: {
    source:
      "AN2606 \"STM32L07xxx/08xxx devices bootloader\", as a user quotes it in the ST community thread 'I2C bootloader issue STM32L071KB' (community.st.com/t5/stm32-mcus-products/i2c-bootloader-issue-stm32l071kb/m-p/473213, 2017): slave address 0x42 on PB6 (SCL) / PB7 (SDA); the thread does not show the L071 answering at it",
    confidence: "low",
  },
};

/** STM32L43x/L44x (0x435): the pins, not the address. */
export const L43X_I2C: I2cBootloaderFacts = {
  ports: [I2C1_PB6_PB7],
  source:
    "AN2606 \"STM32L43xxx/44xxx devices bootloader\" (rev 69 table 152), as quoted in the ST community thread 'STM32L432 nucleo I2C bootloader communication issues' (community.st.com/t5/stm32-mcus-products/stm32l432-nucleo-i2c-bootloader-communication-issues/td-p/860658, 2025-12); the address is in no source we found",
};

/** STM32L45x/L46x (0x462): 0x4A. */
export const L45X_I2C: I2cBootloaderFacts = {
  address: {
    source:
      "a user's worked Bus Pirate session on an STM32L452 (writes to 0x94/0x95, i.e. 0x4A), in a public copy of an ST community answer on AN4221 framing; not from the AN2606 text",
    confidence: "medium",
  },
};

/** STM32F04x (0x445): 0x3E. */
export const F04X_I2C: I2cBootloaderFacts = {
  address: {
    source:
      "raspihats I2C-HAT firmware-update post (raspihats/raspihats.com, _posts/2016-02-17-i2c-hat-firmware-update.md @ 628bdae800e02b141dc5051d945e6e4bb14bd32a): STM32F042 bootloader at 0x3E, with i2cdetect output showing it; not from the AN2606 text",
    confidence: "medium",
  },
};

/** STM32F07x (0x448): 0x56, with a conflicting report. */
export const F07X_I2C: I2cBootloaderFacts = {
  address: {
    source:
      "a third-party flashing script citing AN2606; conflicting report: a user in the ST community thread 'Program stm32F072 from Bootloader I2C' (community.st.com/thread/50551, 2018) got an acknowledge at 0x3B but no valid reply",
    confidence: "low",
  },
};

/** STM32U031, U073/U083 (0x459, 0x489): 0x6A. */
export const U0_I2C: I2cBootloaderFacts = {
  address: {
    source:
      'a public third-party host header ("Default STM32 bootloader I2C address (7-bit, per AN2606 for STM32U0)"), not located by repository; not from the AN2606 text',
    confidence: "low",
  },
};

/** Parts whose I2C bootloader our protocol reference records (version byte), without an address. */
export function i2cWithoutAddress(where: string): I2cBootloaderFacts {
  return { source: `${where}; the address is in no source we found` };
}

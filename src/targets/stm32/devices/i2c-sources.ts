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

/** STM32G0B0/B1/C1 (0x467): 0b1011101x = 0x5D, the same on I2C1 and I2C2. */
export const G0B1_I2C: I2cBootloaderFacts = {
  ports: [
    { instance: "I2C1", scl: "PB6", sda: "PB7" },
    { instance: "I2C2", scl: "PB10", sda: "PB11" },
  ],
  address: {
    source:
      'AN2606 "STM32G0B1xx/0C1xx devices bootloader" table as a public hardware design note quotes it: I2C1 (PB6/PB7) or I2C2 (PB10/PB11), "7-bit 0x5D (0b1011101x — 0xBA write, 0xBB read)", the same address on both (rvodden/fluxtron, BUS.md @ 0005b1acf47ba4ffc8b9944415e115cfd23cd6ff, whose open items still list confirming it against AN2606); measured independently in the ST community thread \'Flash via I2C bootloader problem for STM32G0B1KBU6\' (community.st.com/t5/stm32-mcus-products/flash-via-i2c-bootloader-problem-for-stm32g0b1kbu6/td-p/618748, CubeProgrammer 2.15 era): production boards flashed with stm32flash at 0x5d on PB6/PB7',
    confidence: "high",
  },
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
      "a third-party flashing script citing AN2606 (one such, located: JarrodJackson98/tub-lifter, firmware/flash_i2c.py @ caad23467bc1217549757a1ebab8cda38a2c415b: 'Bootloader I2C address: 0x56 (7-bit), per AN2606 for STM32F072', for the STM32F072V8T6 of a Sequent MEGA-IND V2 hat; it records no session, and the project later moved to another CAN board); conflicting report: a user in the ST community thread 'Program stm32F072 from Bootloader I2C' (community.st.com/thread/50551, 2018) got an acknowledge at 0x3B but no valid reply",
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

/** STM32F030xC (0x442): 0x41, from a vendor's flashing script for its STM32F030CC board. */
export const F030XC_I2C: I2cBootloaderFacts = {
  address: {
    source:
      "Pi Supply's PiJuice HAT (MCU STM32F030CCTx per PiSupply/PiJuice Firmware/Source/README.md @ aff6f5ad54937803120c09900547096df197b520): Firmware/flash.sh @ fbd7a81f4c72eb8c84c3893025c56ade66152854 has the application jump to system memory, then reads, rewrites from 0x08000000 and restores the whole flash with stm32flash -a 0x41; not from the AN2606 text, and the F09x members of this PID (bootloader ID 0x50, F030xC reports 0x52) are not shown at this address",
    confidence: "medium",
  },
};

/** STM32F401xD/E (0x433): 0x39, decoded from the boot ROM and answered on a bench part. */
export const F401XDE_I2C: I2cBootloaderFacts = {
  ports: [I2C1_PB6_PB7],
  address: {
    source:
      "AdamLaurie/raiden-pico, include/i2c_bootloader.h @ 09fb8991183cbab8f179c59de60a60e99b056a46: 7-bit 0x39 decoded from the F401 boot ROM (I2C OAR1 = 0x4072, whose bits 7:1 are 0x39), and its CHANGELOG 0.14 (2026-09-29): on a bench F401 with DEV_ID 0x433 the ROM answers at 0x39 on I2C1 PB6/PB7 and the full command set works at RDP0; that project says AN2606 does not document an I2C interface for the F401, so this is silicon, not the AN2606 text",
    confidence: "medium",
  },
};

/** STM32F72x/F73x (0x452): 0x4D, where a user drove the I2C bootloader (protocol v1.2). */
export const F72X_I2C: I2cBootloaderFacts = {
  address: {
    source:
      "ST community thread 'STM32F723 I2C bootloader : No-Stretch Erase command leads to long clock stretching anyway' (community.st.com/s/question/0D53W00001BTueOSAT, 2021-11-08): a user's STM32F723 bootloader answers at 0x4D (ACK 0x79 to No-Stretch Erase) and reports I2C protocol v1.2; with stm32flash ticket #131 (sourceforge.net/p/stm32flash/tickets/131) the same user reads flash that way; not from the AN2606 text",
    confidence: "medium",
  },
};

/** STM32H74x/H75x (0x450): 0b1001110x = 0x4E. */
export const H74X_I2C: I2cBootloaderFacts = {
  address: {
    source:
      "AN2606 as users quote it: 'Slave 7-bit address: 0b1001110x' in the ST community thread 'NUCLEO-H743ZI2 bootloader Issue' (community.st.com/s/question/0D53W00000EDaPo, 2020), where the bootloader takes commands on PF1 (SCL) / PF0 (SDA) when entered from the application (jump to 0x1FF09800), not yet when entered with BOOT0; and AN2606 rev 42 for STM32H7xx ('0b1001110x') in 'Which EEPROM is usable to boot from a STM32H7xx via I2C?' (community.st.com/t5/stm32-mcus-embedded-software/which-eeprom-is-usable-to-boot-from-a-stm32h7xx-via-i2c/td-p/299042, 2020-03-11)",
    confidence: "medium",
  },
};

/** Parts whose I2C bootloader our protocol reference records (version byte), without an address. */
export function i2cWithoutAddress(where: string): I2cBootloaderFacts {
  return { source: `${where}; the address is in no source we found` };
}

import { afterEach, describe, expect, it } from "vitest";
import { encodeBootRecord, type BootRecord } from "../../../src/targets/ab/boot-record.js";
import { stm32Crc } from "../../../src/signing/index.js";
import { createSimulatedModule, type SimulatedModule } from "../../../src/sim/module/index.js";
import {
  buildSimFirmware,
  parseSimFirmware,
  SIM_BEHAVIOURS,
  type SimBehaviour,
} from "../../../src/sim/firmware/image-format.js";
import {
  createModuleFirmware,
  probeReply,
  type ModuleFirmware,
} from "../../../src/sim/firmware/module-firmware.js";

const A = 0x08004000;
const B = 0x08012000;
const COPIES = [0x08002000, 0x08002800] as const;
const layout = {
  kind: "ab" as const,
  slotA: { address: A, size: 0xe000 },
  slotB: { address: B, size: 0xe000 },
  bootRecord: COPIES,
};

let sim: SimulatedModule | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function module(
  images: { a?: Uint8Array; b?: Uint8Array },
  records: Array<[0 | 1, BootRecord]> = [],
): { sim: SimulatedModule; firmware: ModuleFirmware } {
  const firmware = createModuleFirmware({ layout });
  const pieces = [
    ...(images.a ? [{ address: A, data: images.a }] : []),
    ...(images.b ? [{ address: B, data: images.b }] : []),
    ...records.map(([i, r]) => ({ address: COPIES[i], data: encodeBootRecord(r) })),
  ];
  // Powered up in the bootloader: the selector's first run comes with the test's reset, once it can program flash.
  sim = createSimulatedModule({
    device: "g071",
    timing: false,
    boot0: true,
    initialFlash: pieces,
    app: firmware.app,
  });
  firmware.attach((address, bytes) => sim!.memory.load(address, bytes));
  return { sim, firmware };
}

const fw = (version: string, behaviour: SimBehaviour = "healthy"): Uint8Array =>
  buildSimFirmware({ version, behaviour, size: 2048 });
const rec = (over: Partial<BootRecord>, image?: Uint8Array): BootRecord => ({
  sequence: 1,
  trial: false,
  active: "a",
  activeAddress: A,
  imageLength: image?.length ?? 0,
  imageCrc: image ? stm32Crc(image) : 0,
  fallback: "b",
  fallbackAddress: B,
  ...over,
});

async function probe(target: SimulatedModule, request = "?\n"): Promise<string> {
  const port = target.openUsart();
  await port.write(new TextEncoder().encode(request));
  const reply = await port.read(1, 200).then(
    async (first) => {
      let text = String.fromCharCode(first[0]!);
      while (!text.endsWith("\n")) text += String.fromCharCode((await port.read(1, 200))[0]!);
      return text;
    },
    () => "",
  );
  await port.close();
  return reply;
}

describe("simulated module firmware", () => {
  it("builds images for every behaviour and reads their header back", () => {
    for (const behaviour of SIM_BEHAVIOURS) {
      const image = buildSimFirmware({ version: "1.2.3-rc.1", behaviour, size: 4096 });
      expect(parseSimFirmware(image)).toEqual({ version: "1.2.3-rc.1", behaviour, length: 4096 });
    }
    expect(buildSimFirmware({ version: "1.0.0" })).not.toEqual(buildSimFirmware({ version: "1.0.1" }));
    expect(parseSimFirmware(new Uint8Array(64).fill(0xff))).toBeNull();
  });

  it("boots slot A when there is no boot record, and answers the health probe", async () => {
    const { sim, firmware } = module({ a: fw("1.0.0") });
    sim.reset("application");
    expect(firmware.boots.at(-1)).toMatchObject({ slot: "a", version: "1.0.0", outcome: "running" });
    expect(await probe(sim)).toBe(probeReply("1.0.0"));
  });

  it("boots a trial record once, then falls back to the previous slot on the next reset", () => {
    const one = fw("1.0.0");
    const two = fw("2.0.0");
    const { sim, firmware } = module({ a: one, b: two }, [
      [0, rec({ sequence: 1 }, one)],
      [
        1,
        rec(
          { sequence: 2, trial: true, active: "b", activeAddress: B, fallback: "a", fallbackAddress: A },
          two,
        ),
      ],
    ]);
    sim.reset("application");
    expect(firmware.boots.at(-1)).toMatchObject({ slot: "b", version: "2.0.0", trial: true });
    // The marker of the trial copy is programmed: the trial is used.
    expect(sim.memory.read(COPIES[1] + 32, 32).every((b) => b === 0)).toBe(true);
    sim.reset("application");
    expect(firmware.boots.at(-1)).toMatchObject({ slot: "a", version: "1.0.0", trial: false });
  });

  it("falls back at once when the trial image crashes on boot (watchdog reset)", () => {
    const one = fw("1.0.0");
    const bad = fw("2.0.0", "crash-on-boot");
    const { sim, firmware } = module({ a: one, b: bad }, [
      [
        1,
        rec(
          { sequence: 2, trial: true, active: "b", activeAddress: B, fallback: "a", fallbackAddress: A },
          bad,
        ),
      ],
    ]);
    sim.reset("application");
    expect(firmware.boots.map((b) => [b.slot, b.outcome])).toEqual([
      ["b", "crashed"],
      ["a", "running"],
    ]);
  });

  it("does not boot a slot whose image fails the record's CRC", () => {
    const one = fw("1.0.0");
    const two = fw("2.0.0");
    const { sim, firmware } = module({ a: one, b: two }, [
      [0, rec({ sequence: 3, active: "b", activeAddress: B, fallback: "a" }, fw("2.0.1"))],
    ]);
    sim.reset("application");
    expect(firmware.boots.at(-1)).toMatchObject({ slot: "a", version: "1.0.0" });
  });

  it("hands over to the ROM bootloader when no slot is bootable, as it starts", () => {
    const { sim, firmware } = module({});
    sim.reset("application");
    expect(firmware.boots.at(-1)).toMatchObject({ outcome: "no-image" });
    expect(sim.state).toBe("bootloader-sync");
  });

  it("reports another version when built wrong-version, stays silent when built silent, and jumps to the bootloader on !boot", async () => {
    const { sim } = module({ a: fw("1.0.0", "wrong-version") });
    sim.reset("application");
    expect(await probe(sim)).toBe(probeReply("1.0.0-wrong"));
    expect(await probe(sim, "!boot\n")).toBe("");
    expect(sim.state).toBe("bootloader-sync");
    await sim.close();
    const silent = module({ a: fw("1.0.0", "silent") });
    silent.sim.reset("application");
    expect(await probe(silent.sim)).toBe("");
  });
});

describe("simulated firmware started before it can program flash", () => {
  it("still uses up a trial on its first boot and programs the marker once attached", () => {
    const one = fw("1.0.0");
    const two = fw("2.0.0");
    const firmware = createModuleFirmware({ layout });
    sim = createSimulatedModule({
      device: "g071",
      timing: false,
      boot0: false, // boots its application at once, before attach()
      initialFlash: [
        { address: A, data: one },
        { address: B, data: two },
        {
          address: COPIES[1],
          data: encodeBootRecord(
            rec(
              { sequence: 2, trial: true, active: "b", activeAddress: B, fallback: "a", fallbackAddress: A },
              two,
            ),
          ),
        },
      ],
      app: firmware.app,
    });
    expect(firmware.boots.at(-1)).toMatchObject({ slot: "b", trial: true });
    firmware.attach((address, bytes) => sim!.memory.load(address, bytes));
    expect(sim.memory.read(COPIES[1] + 32, 32).every((b) => b === 0)).toBe(true);
    sim.reset("application");
    expect(firmware.boots.at(-1)).toMatchObject({ slot: "a", version: "1.0.0" });
  });
});

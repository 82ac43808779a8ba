import { afterEach, describe, expect, it } from "vitest";
import { SimHostEnd, type SimulatedModule } from "../../../src/sim/module/index.js";
import { UsartLink } from "../../../src/targets/stm32/link.js";
import { BootloaderError } from "../../../src/targets/stm32/errors.js";
import { Bootloader } from "../../../src/targets/stm32/bootloader.js";
import { get } from "../../../src/targets/stm32/commands/identify.js";
import { writeMemory } from "../../../src/targets/stm32/commands/memory.js";
import { FAST_LINK, captureLogger, connect, pattern, sim } from "./helpers.js";

/** A transport whose device side is a function from received bytes to reply bytes. */
function scripted(reply: (bytes: Uint8Array) => number[] | undefined): SimHostEnd {
  const end: SimHostEnd = new SimHostEnd("scripted", 115200, {
    receive: (bytes) => {
      const answer = reply(bytes);
      if (answer) queueMicrotask(() => end.deliver(Uint8Array.from(answer)));
    },
    setLines: () => {},
    detach: () => {},
  });
  return end;
}

describe("USART link", () => {
  let module: SimulatedModule | undefined;
  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  it("activates a fresh bootloader with one 0x7F answered by ACK", async () => {
    module = sim("g071");
    const transport = module.openUsart();
    await expect(new UsartLink(transport, FAST_LINK).activate()).resolves.toBe("synced");
    expect(transport.stats.bytesWritten).toBe(1);
    expect(module.state).toBe("bootloader");
  });

  it("takes silence after 0x7F and NACK after a second 0x7F as already synchronised", async () => {
    module = sim("g071");
    await new UsartLink(module.openUsart(), FAST_LINK).activate();
    const second = module.openUsart();
    await expect(new UsartLink(second, FAST_LINK).activate()).resolves.toBe("already-synced");
    expect(second.stats.bytesWritten).toBe(2);
    // The pair 7F 7F was consumed as one bad command: the link is aligned and commands work.
    await expect(new UsartLink(second, FAST_LINK).exclusive(get)).resolves.toMatchObject({ version: 0x31 });
  });

  it("takes an immediate NACK as a half-sent command left by an earlier session, and is aligned after it", async () => {
    module = sim("g071");
    const transport = module.openUsart();
    const link = new UsartLink(transport, FAST_LINK);
    await link.activate();
    await transport.write(Uint8Array.of(0x00)); // first byte of a command, never completed
    const { logger, lines } = captureLogger();
    await expect(new UsartLink(transport, { ...FAST_LINK, logger }).activate()).resolves.toBe(
      "already-synced",
    );
    expect(lines.some((l) => l.level === "warn" && /not closed properly/.test(l.msg ?? ""))).toBe(true);
    await expect(link.exclusive(get)).resolves.toMatchObject({ version: 0x31 });
  });

  it("skips a stray 0x00 that arrives before the ACK after a reset", async () => {
    const transport = scripted((bytes) => (bytes[0] === 0x7f ? [0x00, 0x79] : undefined));
    await expect(new UsartLink(transport, FAST_LINK).activate()).resolves.toBe("synced");
  });

  it("reports a device that never answers as no-answer, naming the port and what to check", async () => {
    const transport = scripted(() => undefined);
    const error = await new UsartLink(transport, FAST_LINK).activate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootloaderError);
    expect((error as BootloaderError).code).toBe("no-answer");
    expect((error as BootloaderError).message).toMatch(/^scripted: no answer/);
    expect((error as BootloaderError).message).toMatch(/baud rate/);
    expect((error as BootloaderError).message).toMatch(/parity is even \(8E1\)/);
    expect((error as BootloaderError).message).toMatch(/BOOT0/);
    expect(transport.stats.bytesWritten).toBe(2);
  });

  it("reports an unexpected status byte with its value instead of ACK", async () => {
    const transport = scripted((bytes) => (bytes[0] === 0x7f ? [0x79] : [0x42]));
    const link = new UsartLink(transport, FAST_LINK);
    await link.activate();
    const error = (await link.exclusive(get).catch((e: unknown) => e)) as BootloaderError;
    expect(error.code).toBe("unexpected-byte");
    expect(error.message).toMatch(/Get \(command\): device answered 0x42 instead of ACK\/NACK/);
    expect(error.context).toMatchObject({ reason: "unexpected byte", byte: 0x42 });
  });

  it("resynchronises after a byte of a data frame was lost, visibly and without touching flash", async () => {
    module = sim("g071");
    const { logger, lines } = captureLogger();
    const bl = await Bootloader.connect(module.openUsart(), { link: FAST_LINK, logger });
    // Write Memory sends 2 + 5 bytes before its data frame; lose the 50th data byte.
    module.injectFault({ kind: "drop", direction: "rx", atByte: 7 + 50 });
    const data = pattern(256);
    const error = (await bl.link
      .exclusive((io) => writeMemory(io, 0x08000000, data))
      .catch((e: unknown) => e)) as BootloaderError;
    expect(error.code).toBe("timeout");
    expect(error.context).toMatchObject({ command: "Write Memory", phase: "data", reason: "ack timeout" });
    await bl.resync("test");
    expect(
      lines.some(
        (l) =>
          l.level === "warn" && l.obj.attempt === "1/2" && l.msg === "resynchronising with the bootloader",
      ),
    ).toBe(true);
    await expect(bl.link.exclusive(get)).resolves.toMatchObject({ version: 0x31 });
    // The 0xFF burst either completed the frame with a bad checksum or wrote nothing but 0xFF.
    expect(module.memory.read(0x08000000, 256).every((b) => b === 0xff)).toBe(true);
  });

  it("resynchronises after a lost ACK (device aligned, host not)", async () => {
    module = sim("g071");
    const bl = await connect(module);
    module.injectFault({ kind: "drop", direction: "tx", atByte: 1 });
    // The version byte arrives where the ACK was due.
    await expect(bl.getVersion()).rejects.toMatchObject({ code: "unexpected-byte", context: { byte: 0x31 } });
    await bl.resync("lost ACK");
    await expect(bl.getVersion()).resolves.toMatchObject({ version: 0x31 });
  });

  it("declares the bootloader lost when resynchronisation gets no answer (power cut)", async () => {
    module = sim("g071");
    const bl = await connect(module);
    module.powerOff();
    const error = (await bl.resync("test").catch((e: unknown) => e)) as BootloaderError;
    expect(error.code).toBe("no-answer");
    expect(error.message).toMatch(
      /could not resynchronise in 2 rounds: the module may have reset or lost power/,
    );
  });

  it("never interleaves two commands issued at the same time", async () => {
    module = sim("g071", { initialFlash: pattern(4096) });
    const bl = await connect(module);
    const [a, b, c] = await Promise.all([
      bl.readMemory(0x08000000, 1024),
      bl.getVersion(),
      bl.readMemory(0x08000400, 512),
    ]);
    expect(a).toEqual(pattern(4096).subarray(0, 1024));
    expect(b.version).toBe(0x31);
    expect(c).toEqual(pattern(4096).subarray(1024, 1536));
    expect(module.stats.nacks).toBe(0);
  });

  it("logs frames only when trace is enabled", async () => {
    module = sim("g071");
    const quiet = captureLogger(["info", "warn", "error"]);
    await connect(module, { logger: quiet.logger });
    expect(quiet.lines.filter((l) => l.msg === "-->" || l.msg === "<--")).toHaveLength(0);
    const loud = captureLogger();
    await Bootloader.connect(module.openUsart(), { link: FAST_LINK, logger: loud.logger });
    expect(loud.lines.some((l) => l.level === "trace" && l.msg === "-->" && l.obj.hex === "00 ff")).toBe(
      true,
    );
  });
});

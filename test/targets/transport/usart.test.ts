import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import type { MockBinding as MockBindingApi } from "@serialport/binding-mock" with {
  "resolution-mode": "require",
};
import { SerialPortStream } from "@serialport/stream";
import { afterEach, describe, expect, it } from "vitest";

// The mock binding's package "exports" offer its types only to require(), so it is loaded that way.
const { MockBinding } = createRequire(import.meta.url)("@serialport/binding-mock") as {
  MockBinding: typeof MockBindingApi;
};
import { TransportError } from "../../../src/targets/transport/errors.js";
import { createPtyPair, ptySupport, type PtyPair } from "../../../src/targets/transport/pty.js";
import { SerialPort } from "../../../src/targets/transport/serial-port.js";
import { openSerialTransport, SerialTransport } from "../../../src/targets/transport/usart.js";
import { silentLogger } from "../../../src/util/logger.js";

const pty = await ptySupport();
const suite = pty.available
  ? "USART transport over a socat pty pair"
  : `USART transport over a socat pty pair (${pty.reason})`;

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  const error: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (error instanceof TransportError) return error;
  throw error;
}

describe.skipIf(!pty.available && !pty.required)(suite, () => {
  let pair: PtyPair | undefined;
  const open: SerialTransport[] = [];

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
    await pair?.close();
    pair = undefined;
  });

  async function ends(): Promise<[SerialTransport, SerialTransport]> {
    pair = await createPtyPair();
    const a = await openSerialTransport(pair.a, { parity: "none" });
    open.push(a);
    const b = await openSerialTransport(pair.b, { parity: "none" });
    open.push(b);
    return [a, b];
  }

  it("carries bytes both ways between two transports and counts them", async () => {
    const [a, b] = await ends();
    expect(a.kind).toBe("stream");
    expect(a.baud).toBe(115200);
    expect(a.pseudoTerminal).toBe(true);
    await a.write(Uint8Array.of(0x7f));
    expect(await b.read(1, 1000)).toEqual(Uint8Array.of(0x7f));
    await b.write(Uint8Array.of(0x79, 0x1f));
    expect(await a.read(2, 1000)).toEqual(Uint8Array.of(0x79, 0x1f));
    expect(a.stats).toEqual({ bytesWritten: 1, bytesRead: 2 });
    expect(b.stats).toEqual({ bytesWritten: 2, bytesRead: 1 });
  });

  it("moves 64 KiB intact in 256-byte reads", async () => {
    const [a, b] = await ends();
    const data = Uint8Array.from({ length: 65536 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
    const received: Uint8Array[] = [];
    const reader = (async () => {
      for (let i = 0; i < 256; i++) received.push(await b.read(256, 5000));
    })();
    for (let i = 0; i < data.length; i += 4096) await a.write(data.subarray(i, i + 4096));
    await reader;
    const joined = new Uint8Array(65536);
    received.forEach((r, i) => joined.set(r, i * 256));
    expect(joined).toEqual(data);
    expect(b.stats.bytesRead).toBe(65536);
  });

  it("rejects a read that times out with 'timeout' and keeps the partial bytes", async () => {
    const [a, b] = await ends();
    await a.write(Uint8Array.of(1, 2));
    const e = await rejection(b.read(3, 150));
    expect(e.code).toBe("timeout");
    expect(e.context).toEqual({ port: pair!.b, wanted: 3, got: 2, timeoutMs: 150 });
    expect(e.message).toContain(pair!.b);
    await a.write(Uint8Array.of(3));
    expect(await b.read(3, 1000)).toEqual(Uint8Array.of(1, 2, 3));
  });

  it("drops received bytes on discardInput and never swallows a write made right after it", async () => {
    const [a, b] = await ends();
    await a.write(Uint8Array.of(0xaa, 0xbb));
    await expect.poll(() => b.buffered).toBe(2);
    b.discardInput();
    await b.write(Uint8Array.of(0x7f));
    expect(await a.read(1, 1000)).toEqual(Uint8Array.of(0x7f));
    await a.write(Uint8Array.of(0x79));
    expect(await b.read(1, 1000)).toEqual(Uint8Array.of(0x79));
  });

  it("moves bytes through the port's fd and keeps its exclusive lock while they flow", async () => {
    const [a, b] = await ends();
    expect(a.fastDataPath).toBe(true);
    await a.write(Uint8Array.of(0x7f));
    expect(await b.read(1, 1000)).toEqual(Uint8Array.of(0x7f));
    await b.write(Uint8Array.of(0x79));
    expect(await a.read(1, 1000)).toEqual(Uint8Array.of(0x79));
    // libuv's tty handle would have reopened the tty and dropped serialport's flock; the fd path must not.
    expect((await rejection(openSerialTransport(pair!.a, { parity: "none" }))).code).toBe("port-busy");
  });

  it("writes a block larger than the pty's buffer in one call, whole and in order", async () => {
    const [a, b] = await ends();
    const data = Uint8Array.from({ length: 128 * 1024 }, (_, i) => (i * 31 + (i >> 10)) & 0xff);
    const reader = b.read(data.length, 10_000);
    await a.write(data);
    expect(a.stats.bytesWritten).toBe(data.length);
    expect(await reader).toEqual(data);
  });

  it("refuses a second open of the same port with 'port-busy'", async () => {
    pair = await createPtyPair();
    open.push(await openSerialTransport(pair.a, { parity: "none" }));
    const e = await rejection(openSerialTransport(pair.a, { parity: "none" }));
    expect(e.code).toBe("port-busy");
    expect(e.message).toContain(pair.a);
  });

  it("refuses even parity on a pseudo-terminal with a clear 'bad-settings'", async () => {
    pair = await createPtyPair();
    const e = await rejection(openSerialTransport(pair.a));
    expect(e.code).toBe("bad-settings");
    expect(e.message).toBe(
      `${pair.a} refuses even parity (pseudo-terminals do: Linux silently clears PARENB, the line would run 8N1); use --parity none [bad-settings]`,
    );
  });

  it("shows why: Linux accepts PARENB on a pty without error and then clears it", async () => {
    pair = await createPtyPair();
    const raw = new SerialPort({ path: pair.a, baudRate: 115200, parity: "even", autoOpen: false });
    await new Promise<void>((resolve, reject) => raw.open((err) => (err ? reject(err) : resolve())));
    try {
      const { stdout } = await promisify(execFile)("stty", ["-a", "-F", pair.a]);
      expect(stdout).toMatch(/(^|\s)-parenb(\s|$)/);
    } finally {
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it("accepts DTR/RTS changes on a pty without modem lines and records the levels", async () => {
    const [a] = await ends();
    expect(a.lines).toEqual({ dtr: true, rts: true });
    await a.setLines({ dtr: false });
    await a.setLines({ rts: false });
    expect(a.lines).toEqual({ dtr: false, rts: false });
    expect(a.modemLinesSupported).toBe(false);
  });

  it("applies initial lines given at open", async () => {
    pair = await createPtyPair();
    const t = await openSerialTransport(pair.a, { parity: "none", lines: { dtr: false, rts: true } });
    open.push(t);
    expect(t.lines).toEqual({ dtr: false, rts: true });
  });

  it("rejects a pending read with 'closed' on close, and every later call too", async () => {
    const [a] = await ends();
    const pending = rejection(a.read(1, 5000));
    await a.close();
    expect((await pending).code).toBe("closed");
    expect((await rejection(a.read(1, 10))).code).toBe("closed");
    expect((await rejection(a.write(Uint8Array.of(1)))).code).toBe("closed");
    expect((await rejection(a.setLines({ dtr: true }))).code).toBe("closed");
    await a.close();
  });

  it("reports 'disconnected' when the port goes away under a pending read", async () => {
    const [a] = await ends();
    const pending = rejection(a.read(1, 5000));
    await pair!.close();
    const e = await pending;
    expect(e.code).toBe("disconnected");
    expect(e.message).toContain(pair!.a);
    expect((await rejection(a.write(Uint8Array.of(1)))).code).toBe("disconnected");
  });
});

describe("openSerialTransport errors without a port", () => {
  it("says 'port-not-found' for a missing path", async () => {
    const e = await rejection(openSerialTransport("/dev/ttyUSB-subflash-missing"));
    expect(e.code).toBe("port-not-found");
    expect(e.message).toBe("/dev/ttyUSB-subflash-missing does not exist [port-not-found]");
    expect(e.context).toEqual({ port: "/dev/ttyUSB-subflash-missing" });
  });

  it("says 'open-failed' for a path that is not a character device", async () => {
    const dir = await mkdtemp(join(tmpdir(), "subflash-usart-"));
    try {
      const path = join(dir, "not-a-tty");
      await writeFile(path, "x");
      const e = await rejection(openSerialTransport(path));
      expect(e.code).toBe("open-failed");
      expect(e.message).toMatch(/is not a serial port/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([0, -9600, 115200.5])("refuses baud %s with 'bad-settings'", async (baud) => {
    expect((await rejection(openSerialTransport("/dev/null", { baud }))).code).toBe("bad-settings");
  });

  it("refuses an unknown parity with 'bad-settings'", async () => {
    expect((await rejection(openSerialTransport("/dev/null", { parity: "odd" as never }))).code).toBe(
      "bad-settings",
    );
  });
});

describe("USART transport without a file descriptor to poll", () => {
  it("falls back to serialport's own stream (a mock binding) and still carries bytes both ways", async () => {
    const path = "/dev/subflash-mock-port";
    MockBinding.createPort(path, { echo: true });
    const port = new SerialPortStream({ binding: MockBinding, path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const transport = new SerialTransport(port as unknown as SerialPort, {
      path,
      baud: 115200,
      parity: "none",
      pseudoTerminal: false,
      logger: silentLogger,
    });
    try {
      expect(transport.fastDataPath).toBe(false);
      await transport.write(Uint8Array.of(0x7f, 0x11, 0xee));
      expect(await transport.read(3, 1000)).toEqual(Uint8Array.of(0x7f, 0x11, 0xee));
      expect(transport.stats).toEqual({ bytesWritten: 3, bytesRead: 3 });
    } finally {
      await transport.close();
      MockBinding.reset();
    }
  });
});

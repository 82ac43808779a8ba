/**
 * The device end of a terminal: a port opened the way a module's UART would see it, for `subflash
 * sim --tty` (one end of a socat pty pair served by the simulator, so real host tools can talk to
 * it). Kept in the transport layer because it opens a device; the simulator only gets a byte stream.
 *
 * Bytes move through the port's fd directly where the binding allows it (serial-fd.ts: no
 * thread-pool hop per chunk, so replies leave at their modelled times); otherwise the port's own
 * stream is used.
 */
import { SerialPort } from "./serial-port.js";
import { TransportError } from "./errors.js";
import { openFdStream } from "./serial-fd.js";

/** A byte stream a simulated module can attach to. */
export interface DeviceEndStream {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  write(chunk: Uint8Array): unknown;
}

export interface DeviceEnd {
  readonly stream: DeviceEndStream;
  /** Resolves when the port closes (its other side went away, or close() was called). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens `path` at 8N1 (a pty carries no parity; the simulator still models 8E1 wire time). I/O
 * errors of a pty whose other side comes and goes go to `onError` and do not end the port; a lost
 * port is closed.
 */
export async function openDeviceEnd(
  path: string,
  baudRate: number,
  onError: (error: Error) => void,
): Promise<DeviceEnd> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p = new SerialPort({ path, baudRate, dataBits: 8, parity: "none", stopBits: 1, autoOpen: false });
    p.open((error) => {
      if (error) {
        reject(
          new TransportError(
            "open-failed",
            `cannot open ${path}: ${error.message}`,
            { port: path },
            { cause: error },
          ),
        );
      } else resolve(p);
    });
  });
  port.on("error", onError);
  const fast = openFdStream(port.port, (error) => {
    onError(error);
    if (port.isOpen) port.close();
  });
  const closed = new Promise<void>((resolve) => port.on("close", () => resolve()));
  return {
    stream: fast ?? port,
    closed,
    close: async () => {
      fast?.stop();
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}

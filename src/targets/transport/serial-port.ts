/**
 * The serial port class the transports open: serialport's stream over the binding for this platform.
 *
 * Built from the two packages the `serialport` package is made of (`@serialport/stream`,
 * `@serialport/bindings-cpp`) rather than imported from `serialport` itself, which also loads its
 * eleven protocol parsers (readline, SLIP, ccTalk, …) that we never use: importing `serialport` cost
 * 60–150 ms of every CLI start on this 2-core machine, the two parts 25–50 ms (bench/startup.ts).
 * Behaviour is the same: `serialport`'s SerialPort is exactly this subclass.
 */
import { autoDetect, type AutoDetectTypes, type OpenOptionsFromBinding } from "@serialport/bindings-cpp";
import { SerialPortStream, type ErrorCallback, type StreamOptions } from "@serialport/stream";

/** The binding for this platform (Linux: ioctl/termios on the device node), detected once. */
const binding = autoDetect();

export type SerialPortOptions = Omit<StreamOptions<AutoDetectTypes>, "binding"> &
  OpenOptionsFromBinding<AutoDetectTypes>;

export class SerialPort extends SerialPortStream<AutoDetectTypes> {
  constructor(options: SerialPortOptions, openCallback?: ErrorCallback) {
    super({ binding, ...options }, openCallback);
  }
}

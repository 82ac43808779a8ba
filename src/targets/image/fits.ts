/** Checking an image against a device's main flash (a helper for the flasher and the release tool). */
import type { DeviceInfo } from "../stm32/device.js";
import { ImageError } from "./errors.js";
import type { FirmwareImage } from "./image.js";
import { imageEnd, imageStart } from "./image.js";
import { formatRange } from "./segments.js";

/**
 * Throws ImageError "out-of-range" unless every byte of the image lies in the device's main flash.
 * The message names the offending range (the whole image when it has one segment, else the first
 * segment outside) and the flash range, e.g. "image 0x08000000–0x08024000 does not fit flash
 * 0x08000000–0x08020000 of STM32G07x/G08x (PID 0x460)".
 */
export function checkImageFits(image: FirmwareImage, device: DeviceInfo): void {
  const { flash } = device;
  const outside = image.segments.find(
    (s) => s.address < flash.start || s.address + s.data.length > flash.end,
  );
  if (!outside) return;
  const single = image.segments.length === 1;
  const start = single ? imageStart(image) : outside.address;
  const end = single ? imageEnd(image) : outside.address + outside.data.length;
  const what = single ? "image" : "image segment";
  const pid = `0x${device.pid.toString(16)}`;
  throw new ImageError(
    "out-of-range",
    `${image.source}: ${what} ${formatRange(start, end)} does not fit flash ${formatRange(flash.start, flash.end)} of ${device.name} (PID ${pid})`,
    { source: image.source, start, end, flashStart: flash.start, flashEnd: flash.end, pid: device.pid },
  );
}

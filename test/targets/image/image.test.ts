import { describe, expect, it } from "vitest";
import {
  DEFAULT_BINARY_ADDRESS,
  ImageError,
  buildImage,
  checkImageFits,
  flattenImage,
  imageEnd,
  imageSize,
  imageStart,
  parseBinary,
} from "../../../src/targets/image/index.js";
import { resolveDevice } from "../../../src/targets/stm32/devices.js";

function thrown(fn: () => unknown): ImageError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ImageError) return e;
    throw e;
  }
  throw new Error("no error thrown");
}

describe("parseBinary", () => {
  it("loads the bytes at 0x08000000 when no address is given", () => {
    const bytes = Uint8Array.of(1, 2, 3);
    const image = parseBinary(bytes);
    expect(DEFAULT_BINARY_ADDRESS).toBe(0x08000000);
    expect(image).toEqual({
      format: "bin",
      source: "<binary>",
      segments: [{ address: 0x08000000, data: bytes }],
    });
  });

  it("loads the bytes at the given address", () => {
    const image = parseBinary(Uint8Array.of(1), 0x08004000, "app.bin");
    expect(imageStart(image)).toBe(0x08004000);
    expect(image.source).toBe("app.bin");
  });

  it("refuses an empty file", () => {
    const e = thrown(() => parseBinary(new Uint8Array(0), undefined, "app.bin"));
    expect(e.code).toBe("empty");
    expect(e.message).toContain("app.bin");
  });

  it("refuses bytes that would run past the 32-bit address space", () => {
    expect(thrown(() => parseBinary(new Uint8Array(16), 0xfffffff8)).code).toBe("out-of-range");
    expect(thrown(() => parseBinary(new Uint8Array(16), -4)).code).toBe("invalid-option");
  });
});

describe("buildImage", () => {
  it("sorts, merges touching segments and drops empty ones", () => {
    const image = buildImage("elf", "x", [
      { address: 0x100, data: Uint8Array.of(3) },
      { address: 0x0fe, data: Uint8Array.of(1, 2) },
      { address: 0x200, data: new Uint8Array(0) },
      { address: 0x300, data: Uint8Array.of(9) },
    ]);
    expect(image.segments.map((s) => [s.address, Array.from(s.data)])).toEqual([
      [0x0fe, [1, 2, 3]],
      [0x300, [9]],
    ]);
    expect(imageStart(image)).toBe(0x0fe);
    expect(imageEnd(image)).toBe(0x301);
    expect(imageSize(image)).toBe(4);
  });

  it("refuses overlapping segments", () => {
    const e = thrown(() =>
      buildImage("elf", "x", [
        { address: 0x100, data: new Uint8Array(16) },
        { address: 0x10f, data: new Uint8Array(1) },
      ]),
    );
    expect(e.code).toBe("overlap");
    expect(e.message).toContain(
      "segment 1 (0x0000010F–0x00000110) overlaps segment 0, which ends at 0x00000110",
    );
  });
});

describe("flattenImage", () => {
  const sparse = buildImage("hex", "fw.hex", [
    { address: 0x08000000, data: Uint8Array.of(1, 2) },
    { address: 0x08000005, data: Uint8Array.of(3) },
  ]);

  it("fills the gaps with 0xFF by default", () => {
    expect(flattenImage(sparse)).toEqual({
      address: 0x08000000,
      data: Uint8Array.of(1, 2, 0xff, 0xff, 0xff, 3),
    });
  });

  it("fills the gaps with the given byte", () => {
    expect(Array.from(flattenImage(sparse, 0x00).data)).toEqual([1, 2, 0, 0, 0, 3]);
  });

  it("returns a new buffer even for a single segment", () => {
    const image = parseBinary(Uint8Array.of(5, 6));
    const flat = flattenImage(image);
    flat.data[0] = 0;
    expect(image.segments[0]!.data[0]).toBe(5);
  });

  it("refuses to allocate a huge buffer for segments far apart", () => {
    const withOptionBytes = buildImage("hex", "fw.hex", [
      { address: 0x08000000, data: new Uint8Array(4) },
      { address: 0x1fff7800, data: new Uint8Array(4) },
    ]);
    const e = thrown(() => flattenImage(withOptionBytes));
    expect(e.code).toBe("too-large");
    expect(e.message).toContain("0x08000000–0x1FFF7804");
    expect(flattenImage(sparse, 0xff, { maxBytes: 6 }).data).toHaveLength(6);
    expect(thrown(() => flattenImage(sparse, 0xff, { maxBytes: 5 })).code).toBe("too-large");
  });
});

describe("checkImageFits", () => {
  const g071 = resolveDevice("g071");

  it("accepts an image that ends exactly at the end of flash", () => {
    expect(() => checkImageFits(parseBinary(new Uint8Array(128 * 1024)), g071)).not.toThrow();
  });

  it("refuses an image larger than flash, naming both ranges and the device", () => {
    const e = thrown(() => checkImageFits(parseBinary(new Uint8Array(0x24000), undefined, "big.bin"), g071));
    expect(e.code).toBe("out-of-range");
    expect(e.message).toBe(
      "big.bin: image 0x08000000–0x08024000 does not fit flash 0x08000000–0x08020000 of STM32G07x/G08x (PID 0x460) [out-of-range]",
    );
    expect(e.context).toMatchObject({ start: 0x08000000, end: 0x08024000, pid: 0x460 });
  });

  it("refuses an image below the flash start", () => {
    expect(thrown(() => checkImageFits(parseBinary(new Uint8Array(4), 0x07fffffc), g071)).code).toBe(
      "out-of-range",
    );
  });

  it("names the offending segment of a multi-segment image", () => {
    const image = buildImage("hex", "fw.hex", [
      { address: 0x08000000, data: new Uint8Array(4) },
      { address: 0x1fff7800, data: new Uint8Array(16) },
    ]);
    expect(thrown(() => checkImageFits(image, g071)).message).toContain(
      "image segment 0x1FFF7800–0x1FFF7810 does not fit flash",
    );
  });
});

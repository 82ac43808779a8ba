/**
 * Our device table against the device data of two peer tools, for the product IDs they share
 * (fixtures in test/fixtures/peer-devices: their facts as data, with the commit they came from).
 * Every disagreement is either fixed in our table or listed in known-differences.json with the
 * reference-manual (or AN2606) citation that says why we differ. A listed difference that no longer
 * differs fails too, so the list stays true.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { eraseUnits, type DeviceInfo } from "../../../src/targets/stm32/device.js";
import { findDevice } from "../../../src/targets/stm32/devices.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../fixtures/peer-devices/${name}`, import.meta.url), "utf8"));

interface Stm32flashRow {
  pid: string;
  name: string;
  ram: [string, string];
  flash: [string, string];
  pagesPerSector: number;
  pageSizes: number[];
  optionBytesInclusive: [string, string] | null;
  systemMemory: [string, string];
  flags: string[];
  inDebian07: boolean;
}
interface Stm32loaderRow {
  pid: string;
  bootloaderId: string | null;
  bootloaderIdAddress: string | null;
  ram: [string, string] | null;
  systemMemory: Array<[string, string]>;
  flash: { range: [string, string]; pageSize: number | null; sectorMap: string | null } | null;
  optionBytesInclusive: [string, string] | null;
}
interface KnownDifference {
  peer: "stm32flash" | "stm32loader";
  pid: string;
  field: string;
  ours: string;
  theirs: string;
  why: string;
  citation: string;
}

const n = (s: string): number => Number.parseInt(s, 16);
const hx = (v: number): string => `0x${v.toString(16).toUpperCase().padStart(8, "0")}`;
const rng = (a: number, b: number): string => `${hx(a)}-${hx(b)}`;
const incl = (r: { start: number; end: number } | undefined): string =>
  r ? rng(r.start, r.end - 1) : "none";

/** Erase-unit sizes in KiB, run-length encoded: "16x4,64,128x7". */
function runs(sizes: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < sizes.length;) {
    let j = i;
    while (j < sizes.length && sizes[j] === sizes[i]) j++;
    out.push(`${sizes[i]! / 1024}${j - i > 1 ? `x${j - i}` : ""}`);
    i = j;
  }
  return out.join(",");
}

/** stm32flash's page-size list (last one repeating) laid over its flash range. */
function expand(pageSizes: number[], start: number, end: number): number[] {
  const sizes: number[] = [];
  for (let at = start, i = 0; at < end; i++) {
    const size = pageSizes[Math.min(i, pageSizes.length - 1)]!;
    sizes.push(size);
    at += size;
  }
  return sizes;
}

const SECTOR_MAPS: Record<string, number[]> = {
  f2f4: [16, 16, 16, 16, 64, 128].map((k) => k * 1024),
  f4db: [16, 16, 16, 16, 64, 128, 128, 128, 128, 16, 16, 16, 16, 64, 128].map((k) => k * 1024),
  f7: [32, 32, 32, 32, 128, 256].map((k) => k * 1024),
};

function ourUnits(d: DeviceInfo): string {
  return runs(eraseUnits(d).map((u) => u.size));
}

type Fields = Record<string, [ours: string, theirs: string]>;

function vsStm32flash(d: DeviceInfo, p: Stm32flashRow): Fields {
  const [fs, fe] = [n(p.flash[0]), n(p.flash[1])];
  return {
    flash: [rng(d.flash.start, d.flash.end), rng(fs, fe)],
    erase: [ourUnits(d), runs(expand(p.pageSizes, fs > fe ? d.flash.start : fs, fe))],
    ram: [rng(d.ram.start, d.ram.end), rng(n(p.ram[0]), n(p.ram[1]))],
    optionBytes: [
      incl(d.optionBytes),
      p.optionBytesInclusive ? rng(n(p.optionBytesInclusive[0]), n(p.optionBytesInclusive[1])) : "none",
    ],
    systemMemory: [
      rng(d.systemMemory.start, d.systemMemory.end),
      rng(n(p.systemMemory[0]), n(p.systemMemory[1])),
    ],
    wrpSector: [String(d.unitsPerWrpSector), String(p.pagesPerSector)],
    massErase: [String(d.massErase), String(!p.flags.includes("NO_ME"))],
  };
}

function vsStm32loader(d: DeviceInfo, p: Stm32loaderRow): Fields {
  const f: Fields = {};
  const id = d.bootloader.id;
  if (p.bootloaderId !== null)
    f.bootloaderId = [
      id ? `0x${id.value.toString(16).toUpperCase().padStart(2, "0")}` : "none",
      p.bootloaderId,
    ];
  if (p.bootloaderIdAddress !== null)
    f.bootloaderIdAddress = [id ? hx(id.address) : "none", p.bootloaderIdAddress];
  if (p.ram !== null) f.ram = [rng(d.ram.start, d.ram.end), rng(n(p.ram[0]), n(p.ram[1]))];
  const sys = [d.systemMemory, d.systemMemory2].filter((r) => r !== undefined);
  f.systemMemory = [
    sys.map((r) => rng(r.start, r.end)).join(" "),
    p.systemMemory.map(([a, b]) => rng(n(a), n(b))).join(" "),
  ];
  if (p.flash) {
    const [fs, fe] = [n(p.flash.range[0]), n(p.flash.range[1])];
    f.flash = [rng(d.flash.start, d.flash.end), rng(fs, fe)];
    const map = p.flash.sectorMap ? SECTOR_MAPS[p.flash.sectorMap]! : [p.flash.pageSize!];
    f.erase = [ourUnits(d), runs(expand(map, fs, fe))];
  }
  if (p.optionBytesInclusive)
    f.optionBytes = [incl(d.optionBytes), rng(n(p.optionBytesInclusive[0]), n(p.optionBytesInclusive[1]))];
  return f;
}

const stm32flash = fixture("stm32flash.json") as { commit: string; devices: Stm32flashRow[] };
const stm32loader = fixture("stm32loader.json") as { commit: string; devices: Stm32loaderRow[] };
const known = (fixture("known-differences.json") as { differences: KnownDifference[] }).differences;

function disagreements(): KnownDifference[] {
  const found: KnownDifference[] = [];
  const add = (peer: KnownDifference["peer"], pid: string, fields: Fields): void => {
    for (const [field, [ours, theirs]] of Object.entries(fields))
      if (ours !== theirs) found.push({ peer, pid, field, ours, theirs, why: "", citation: "" });
  };
  for (const p of stm32flash.devices) {
    const d = findDevice(n(p.pid));
    if (d) add("stm32flash", p.pid, vsStm32flash(d, p));
  }
  for (const p of stm32loader.devices) {
    const d = findDevice(n(p.pid));
    if (d) add("stm32loader", p.pid, vsStm32loader(d, p));
  }
  return found;
}

const key = (d: Pick<KnownDifference, "peer" | "pid" | "field">): string => `${d.peer} ${d.pid} ${d.field}`;

describe("device table against stm32flash and stm32loader", () => {
  const found = disagreements();

  it("shares most product IDs with both peers", () => {
    expect(stm32flash.devices.filter((p) => findDevice(n(p.pid))).length).toBeGreaterThanOrEqual(60);
    expect(stm32loader.devices.filter((p) => findDevice(n(p.pid))).length).toBeGreaterThanOrEqual(60);
  });

  it("has every disagreement listed in known-differences.json, with a citation", () => {
    const listed = new Map(known.map((k) => [key(k), k]));
    const unlisted = found.filter((f) => !listed.has(key(f)));
    expect(unlisted, JSON.stringify(unlisted, null, 1)).toEqual([]);
    for (const k of known) {
      expect(k.why.length, key(k)).toBeGreaterThan(10);
      expect(k.citation, key(k)).toMatch(/RM\d{4}|AN2606|AN3155/);
    }
  });

  it("lists only differences that still exist, with the values as they are", () => {
    const now = new Map(found.map((f) => [key(f), f]));
    for (const k of known) {
      const f = now.get(key(k));
      expect(f, `${key(k)} no longer differs: remove it from known-differences.json`).toBeDefined();
      expect({ ours: k.ours, theirs: k.theirs }, key(k)).toEqual({ ours: f!.ours, theirs: f!.theirs });
    }
  });
});

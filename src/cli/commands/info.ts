/** `subflash info --port <tty>`: what the module's ROM bootloader is, offers, and what its flash looks like. */
import type { Command } from "commander";
import { commandName, versionString } from "../../targets/index.js";
import { eraseUnits, flashSize, type DeviceInfo } from "../../targets/index.js";
import type { Bootloader } from "../../targets/index.js";
import { addr } from "../../util/logger.js";
import { action } from "../run.js";
import { sizeText, writeJsonLine } from "../progress.js";
import { addTargetOptions, openTargetOrReport, type TargetFlags } from "../target.js";

export function register(program: Command): void {
  addTargetOptions(
    program
      .command("info")
      .description(
        "identify the module's bootloader: part, PID, protocol version, commands, flash layout, RDP",
      ),
  ).action(action("info", runInfo));
}

/** "4 × 16 KiB, 1 × 64 KiB, 7 × 128 KiB" or "64 pages of 2 KiB". */
export function eraseSummary(device: DeviceInfo): string {
  const units = eraseUnits(device);
  if (device.erase.kind === "pages") return `${units.length} pages of ${sizeText(device.erase.pageSize)}`;
  const groups: { size: number; count: number }[] = [];
  for (const u of units) {
    const last = groups[groups.length - 1];
    if (last?.size === u.size) last.count++;
    else groups.push({ size: u.size, count: 1 });
  }
  return `${units.length} sectors: ${groups.map((g) => `${g.count} × ${sizeText(g.size)}`).join(", ")}`;
}

function flashStart(
  bl: Bootloader,
): { blank: boolean; stackPointer?: number; resetVector?: number } | undefined {
  const head = bl.flashHead;
  if (head.length < 8) return undefined;
  const le = (o: number): number =>
    (head[o]! | (head[o + 1]! << 8) | (head[o + 2]! << 16) | (head[o + 3]! << 24)) >>> 0;
  if (head.every((b) => b === 0xff)) return { blank: true };
  return { blank: false, stackPointer: le(0), resetVector: le(4) };
}

async function runInfo(flags: TargetFlags): Promise<number> {
  const target = await openTargetOrReport(flags);
  if (typeof target === "number") return target;
  try {
    const bl = target.bootloader;
    const d = bl.device;
    const start = flashStart(bl);
    const info = {
      port: bl.port,
      device: {
        name: d.name,
        family: d.family,
        pid: bl.pid,
        pidHex: `0x${bl.pid.toString(16).padStart(3, "0")}`,
      },
      bootloader: {
        version: versionString(bl.version),
        versionByte: bl.version,
        commands: bl.commands.map((code) => ({ code, name: commandName(code) })),
      },
      flash: {
        start: d.flash.start,
        end: d.flash.end,
        size: flashSize(d),
        erase: eraseSummary(d),
        flashWord: d.flashWord,
        massErase: d.massErase,
        dualBank: d.dualBank,
      },
      rdp: bl.rdp,
      ...(start ? { flashStart: start } : {}),
    };
    if (flags.json) {
      writeJsonLine(info);
      return 0;
    }
    const lines = [
      `port:        ${info.port}`,
      `device:      ${d.name} (PID ${info.device.pidHex}, ${d.family})${flags.device ? " [--device override]" : ""}`,
      `bootloader:  protocol v${info.bootloader.version}`,
      `commands:    ${info.bootloader.commands.map((c) => c.name).join(", ")}`,
      `flash:       ${addr(d.flash.start)}–${addr(d.flash.end)} (${sizeText(info.flash.size)}), ${info.flash.erase}, ${d.flashWord}-byte flash word` +
        `${d.massErase ? "" : ", no mass erase"}${d.dualBank ? ", dual bank" : ""}`,
      `readout:     ${bl.rdp === "level1" ? "PROTECTED (RDP level 1): reads, writes and erases are refused" : bl.rdp === "level0" ? "not protected (RDP level 0)" : "unknown"}`,
    ];
    if (start) {
      lines.push(
        start.blank
          ? "flash start: blank (erased)"
          : `flash start: vector table, stack pointer ${addr(start.stackPointer!)}, reset handler ${addr(start.resetVector!)}`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await target.close();
  }
}

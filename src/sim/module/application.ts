/**
 * The application side of a simulated module: what runs after Go or a reset with BOOT0 low. The
 * module's owner plugs in a factory (the gateway's slot selector and health probes, the demo's
 * firmware); without one the application is silent. Also recognises the one piece of RAM code the
 * simulator "executes": a host's system-reset stub.
 */
import { addr, type Logger } from "../../util/logger.js";
import type { DeviceInfo } from "../../targets/index.js";
import type { SimMemory } from "./memory.js";
import type { SimAppFactory, SimApplication } from "./types.js";

export interface AppRunnerDeps {
  factory: SimAppFactory | undefined;
  device: DeviceInfo;
  memory: SimMemory;
  logger: Logger;
  /** Puts the application's reply on the line at wire speed. */
  send(bytes: Uint8Array): void;
  /** The application asked to jump into the ROM bootloader. */
  enterBootloader(): void;
}

export class AppRunner {
  #app: SimApplication | undefined;
  /** Identity of the current start; a context from an older start (or after stop) is stale. */
  #run: object | undefined;

  constructor(readonly deps: AppRunnerDeps) {}

  start(bootReason: "go" | "reset", goAddress?: number): void {
    this.stop();
    const { factory, memory, device, logger } = this.deps;
    if (!factory) return;
    const run = {};
    this.#run = run;
    // Firmware may jump to the bootloader from its start-up code, i.e. while the factory runs: the
    // jump is taken as soon as the factory returns, before any byte reaches the application.
    let starting = true;
    let jumpWhileStarting = false;
    const app = factory({
      flash: { read: (address, length) => memory.read(address, length) },
      device,
      bootReason,
      ...(goAddress === undefined ? {} : { goAddress }),
      enterBootloader: () => {
        if (this.#run !== run) return; // a stale context: that application no longer runs
        if (starting) jumpWhileStarting = true;
        else this.#jump();
      },
    });
    starting = false;
    this.#app = app;
    logger.debug(
      { bootReason, goAddress: goAddress === undefined ? undefined : addr(goAddress) },
      "application runs",
    );
    if (jumpWhileStarting) this.#jump();
  }

  #jump(): void {
    this.stop();
    this.deps.logger.debug({}, "application jumps to the bootloader");
    this.deps.enterBootloader();
  }

  /** Reset, power cut or jump to the bootloader: the application stops; its late replies are dropped. */
  stop(): void {
    const app = this.#app;
    this.#app = undefined;
    this.#run = undefined;
    app?.stop?.();
  }

  data(bytes: Uint8Array): void {
    const app = this.#app;
    app?.onData(bytes, (reply) => {
      if (this.#app === app) this.deps.send(reply);
    });
  }
}

/**
 * True when the code at a RAM Go target stores VECTKEY|SYSRESETREQ (0x05FA0004) to the AIRCR
 * (0xE000ED0C): the stub hosts run to reset a part through the bootloader (docs/protocol.md
 * §2.3.5, stm32flash -R). We cannot run code, but we recognise that one by its two literals.
 */
export function isResetStub(memory: SimMemory, address: number): boolean {
  const area = memory.areaAt(address);
  if (area?.kind !== "ram") return false;
  const code = memory.read(address, Math.min(1024, area.end - address));
  const words = new Set<number>();
  for (let i = 0; i + 4 <= code.length; i += 2) {
    words.add((code[i]! | (code[i + 1]! << 8) | (code[i + 2]! << 16) | (code[i + 3]! << 24)) >>> 0);
  }
  return words.has(0xe000ed0c) && words.has(0x05fa0004);
}

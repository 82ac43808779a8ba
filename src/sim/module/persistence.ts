/**
 * Keeps a simulated module's flash in a file so it survives restarts (`subflash sim --flash-file`).
 * The flash image is the raw content from the flash start; after each flash-modifying command only
 * the changed byte range is written (pwrite on a file kept open). Option state (RDP, WRP) lives in a
 * small sidecar `<file>.options.json`, replaced atomically (write + rename) when it changes.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { SimError } from "./errors.js";
import type { SimMemory } from "./memory.js";

interface OptionFile {
  rdp: 0 | 1;
  wrp: number[];
}

export class FlashPersistence {
  readonly #fd: number;
  readonly #optionsPath: string;
  #lastOptions = "";

  private constructor(
    readonly path: string,
    readonly memory: SimMemory,
    /** True when existing content was loaded (it wins over initial flash and option settings). */
    readonly loaded: { flash: boolean; options: boolean },
  ) {
    this.#optionsPath = `${path}.options.json`;
    this.#fd = openSync(path, "r+");
    this.#lastOptions = loaded.options ? readFileSync(this.#optionsPath, "utf8") : "";
  }

  /** Loads `path` into `memory` when it exists, otherwise creates it from the current content. */
  static open(path: string, memory: SimMemory): FlashPersistence {
    const { flash } = memory;
    const hasFlash = existsSync(path);
    if (hasFlash) {
      const content = readFileSync(path);
      if (content.length !== flash.data.length) {
        throw new SimError(
          "flash-file-invalid",
          `flash file ${path} holds ${content.length} bytes but ${memory.device.name} has ${flash.data.length} bytes of flash`,
          { path, size: content.length, expected: flash.data.length },
        );
      }
      flash.load(0, content);
    } else {
      writeFileSync(path, flash.data);
    }
    flash.takeDirty();
    const optionsPath = `${path}.options.json`;
    const hasOptions = existsSync(optionsPath);
    if (hasOptions) {
      let parsed: OptionFile;
      try {
        parsed = JSON.parse(readFileSync(optionsPath, "utf8")) as OptionFile;
      } catch (error) {
        throw new SimError(
          "flash-file-invalid",
          `option file ${optionsPath} is not valid JSON`,
          { path: optionsPath },
          { cause: error },
        );
      }
      memory.setOptionState({
        rdp: parsed.rdp === 1 ? 1 : 0,
        wrp: new Set(Array.isArray(parsed.wrp) ? parsed.wrp : []),
      });
    }
    return new FlashPersistence(path, memory, { flash: hasFlash, options: hasOptions });
  }

  /** Writes what changed since the last flush. Cheap when nothing did. */
  flush(): void {
    const dirty = this.memory.flash.takeDirty();
    if (dirty) writeSync(this.#fd, this.memory.flash.data, dirty.start, dirty.end - dirty.start, dirty.start);
    const state = this.memory.optionState();
    const options = `${JSON.stringify({ rdp: state.rdp, wrp: [...state.wrp].sort((a, b) => a - b) } satisfies OptionFile)}\n`;
    if (options !== this.#lastOptions) {
      writeFileSync(`${this.#optionsPath}.tmp`, options);
      renameSync(`${this.#optionsPath}.tmp`, this.#optionsPath);
      this.#lastOptions = options;
    }
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

/**
 * The shape of the gateway configuration file (YAML or JSON), as zod 4 schemas. Every key is
 * documented in docs/configuration.md; keep the two in step. Semantic checks that need the device
 * table (slots inside flash, erase-unit alignment, bus sharing) live in config.ts.
 */
import { z } from "zod";
import { parseBrokerUrl } from "../../util/broker-url.js";
import type { DeviceInfo } from "../../targets/index.js";
import { findDevice, resolveDevice } from "../../targets/index.js";

/** An address or size: a non-negative integer, or a "0x…" string (JSON has no hex literals). */
export const uint = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^(0x[0-9a-f]+|\d+)$/i, "expected a number or a 0x-hex string")
    .transform((s) => Number(s)),
]);

const positiveMs = z.number().int().positive();
const parity = z.enum(["even", "none"]);

export const usartSchema = z.strictObject({
  /** Serial device node, e.g. /dev/ttyS1 or /dev/serial/by-id/… */
  path: z.string().min(1),
  /** Bootloader baud rate; the ROM auto-detects it from 0x7F (AN3155 §2). */
  baud: z.number().int().min(1200).max(4_000_000).default(115_200),
  /** AN3155 frames are 8E1; some parts (BlueNRG, WB0) need "none". */
  parity: parity.default("even"),
});

export const i2cSchema = z.strictObject({
  /** I2C bus: its number or its device node ("/dev/i2c-1"). Modules on one bus are updated one at a time. */
  bus: z.union([
    z.number().int().nonnegative(),
    z.string().regex(/^(\/dev\/)?(i2c-)?\d+$/, "expected a bus number or /dev/i2c-N"),
  ]),
  /**
   * 7-bit slave address of the module's bootloader (AN2606 lists it per part), e.g. 0x51. Optional:
   * it defaults to the device table's address for the module's `device` (moduleSchema below).
   */
  address: uint
    .refine((a) => a >= 0x03 && a <= 0x77, "must be a 7-bit slave address in 0x03..0x77 (not the 8-bit form)")
    .optional(),
  /** Clock the adapter runs at (set by its driver); used for timeouts and estimates. */
  clockHz: z.number().int().min(10_000).max(1_000_000).default(400_000),
});

/** Where the module's ROM bootloader is reached: exactly one of a USART (AN3155) or an I2C bus (AN4221). */
export const transportSchema = z
  .strictObject({ usart: usartSchema.optional(), i2c: i2cSchema.optional() })
  .refine((t) => (t.usart === undefined) !== (t.i2c === undefined), "give exactly one of usart or i2c");

/** A byte string written as "hex:7f 00 ff" or as text with \n, \r, \xNN escapes ("text:boot\n"), or plain text. */
export const byteString = z.string().min(1);

export const entrySchema = z.discriminatedUnion("method", [
  z.strictObject({
    /** BOOT0 and NRST through the Linux GPIO character device, driven with libgpiod's `gpioset`. */
    method: z.literal("gpio"),
    /** GPIO chip: "gpiochip0" or "/dev/gpiochip0". */
    chip: z.string().min(1),
    /** Line offsets on that chip. */
    boot0: z.number().int().nonnegative(),
    nrst: z.number().int().nonnegative(),
    /** NRST is active low on every STM32; set false when an inverting driver sits between. */
    nrstActiveLow: z.boolean().default(true),
    boot0ActiveLow: z.boolean().default(false),
    /** How long NRST is held asserted, and how long to wait after releasing it before talking. */
    resetPulseMs: positiveMs.default(20),
    settleMs: z.number().int().nonnegative().default(50),
    /** Path of the gpioset binary (libgpiod v1 or v2). */
    gpioset: z.string().min(1).default("gpioset"),
  }),
  z.strictObject({
    /**
     * DTR/RTS of the serial adapter wired to NRST/BOOT0 (src/targets/transport/entry.ts). By default the
     * entry and exit sequences are generated from the wiring below; `enter`/`exit` replace them with
     * explicit sequences such as "rts=1+dtr=1,wait=100,dtr=0,wait=100".
     */
    method: z.literal("serial-lines"),
    boot0: z.enum(["rts", "dtr"]).default("rts"),
    reset: z.enum(["rts", "dtr"]).default("dtr"),
    /** Asserting the BOOT0 line sets BOOT0 high. */
    boot0ActiveHigh: z.boolean().default(true),
    /** Asserting the reset line pulls NRST low. */
    resetActiveLow: z.boolean().default(true),
    pulseMs: positiveMs.default(100),
    settleMs: z.number().int().nonnegative().default(100),
    enter: z.string().min(1).optional(),
    exit: z.string().min(1).optional(),
  }),
  z.strictObject({
    /** A command sent to the running application, which jumps to the ROM bootloader itself. */
    method: z.literal("app-command"),
    /** Bytes to send (see byteString). */
    send: byteString,
    /** The application's line settings. */
    baud: z.number().int().min(1200).max(4_000_000).default(115_200),
    parity: parity.default("none"),
    /** Serial port of the application, when it differs from the bootloader's. */
    path: z.string().min(1).optional(),
    /** Time the application needs to jump into the bootloader. */
    settleMs: z.number().int().nonnegative().default(100),
  }),
  z.strictObject({
    /** The module sits in its bootloader already (BOOT0 strapped high, or empty flash). */
    method: z.literal("none"),
  }),
]);

const rangeSchema = z.strictObject({
  address: uint,
  size: uint.refine((n) => n > 0, "must be greater than 0"),
});

export const layoutSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("ab"),
    slotA: rangeSchema,
    slotB: rangeSchema,
    /** Two copies of the boot record, each in its own erase unit (docs/module-firmware.md). */
    bootRecord: z.strictObject({ copies: z.tuple([uint, uint]) }),
    /** Where the slot selector starts (the Go target on exit). Default: the start of flash. */
    selector: uint.optional(),
  }),
  z.strictObject({
    kind: z.literal("single"),
    slot: rangeSchema,
  }),
]);

export const healthSchema = z.discriminatedUnion("kind", [
  /** Only checks that the module answers its bootloader after a reset into it. */
  z.strictObject({ kind: z.literal("bootloader-only") }),
  z.strictObject({
    /** Sends bytes to the running application and expects a reply matching a pattern. */
    kind: z.literal("uart-probe"),
    send: byteString.default("?\n"),
    /** Regular expression; "{version}" stands for the expected version (regex-escaped). */
    expect: z.string().min(1).default("^subflash-app {version} ok$"),
    baud: z.number().int().min(1200).max(4_000_000).default(115_200),
    parity: parity.default("none"),
    path: z.string().min(1).optional(),
    /** Wait before probing, for the application to boot. */
    bootDelayMs: z.number().int().nonnegative().default(100),
    /** Per-attempt reply timeout and number of attempts. */
    timeoutMs: positiveMs.default(2000),
    attempts: z.number().int().min(1).max(20).default(3),
  }),
  z.strictObject({ kind: z.literal("none") }),
]);

/** Watchdog per phase, in milliseconds; nothing stays "updating" forever. */
export const timeoutsSchema = z.strictObject({
  /** Entering the bootloader and identifying the device. */
  enterMs: positiveMs.default(15_000),
  /** Erase + write + verify of one slot. Default: estimated from image size, baud and device timings, ×3 + 30 s. */
  flashMs: positiveMs.optional(),
  /** Writing a boot record and starting the application. */
  activateMs: positiveMs.default(20_000),
  /** The whole health check (all attempts). */
  healthMs: positiveMs.default(30_000),
});

const moduleShape = z.strictObject({
  /** Unique id, used in topics and status: letters, digits, "-", "_", ".". */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' or '-', at most 64"),
  /** Module type, matched against the manifest's module entries. */
  type: z.string().min(1),
  /** Expected device: part name ("f103", "g071") or product ID (0x410). */
  device: z.union([z.string().min(1), z.number().int().positive()]),
  transport: transportSchema,
  entry: entrySchema,
  /** How the module leaves the bootloader: Go to the selector/slot, or a reset through the entry lines. */
  exit: z.enum(["go", "reset"]).default("go"),
  layout: layoutSchema,
  health: healthSchema.default({ kind: "bootloader-only" }),
  timeouts: timeoutsSchema.default(timeoutsSchema.parse({})),
  /** How written flash is checked: Get Checksum when offered (auto), CRC, read-back, or not at all. */
  verify: z.enum(["auto", "crc", "readback", "none"]).default("auto"),
  /** Differential flashing: erase and write only the erase units whose content differs (auto), or every unit (off). */
  diff: z.enum(["auto", "off"]).default("auto"),
  /**
   * Without Get Checksum (0xA1), may the gateway's own records of what it wrote and verified on the
   * module (image store) alone skip a unit? The final verification still covers the whole image.
   */
  trustKnownContent: z.boolean().default(false),
  /** Whole-job attempts after a transient failure (link errors) before the module is failed. */
  attempts: z.number().int().min(1).max(10).default(2),
});

type ModuleShape = z.output<typeof moduleShape>;
type I2cShape = NonNullable<ModuleShape["transport"]["i2c"]>;
/** A module whose I2C address, if it is an I2C module, is settled (given, or from the device table). */
type ResolvedModule = Omit<ModuleShape, "transport"> & {
  transport: Omit<ModuleShape["transport"], "i2c"> & { i2c?: I2cShape & { address: number } };
};

/**
 * A module, with an I2C module's omitted `transport.i2c.address` taken from the device table
 * (AN2606's address for the part, src/targets/stm32/devices/i2c-sources.ts). A part the table knows
 * no address for, or a device it does not know, needs the address written out.
 */
export const moduleSchema = moduleShape.transform((module, ctx): ResolvedModule => {
  const i2c = module.transport.i2c;
  if (i2c === undefined || i2c.address !== undefined) return module as ResolvedModule;
  const device = deviceOf(module.device);
  const address = device?.bootloader.i2cAddress;
  if (address === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["transport", "i2c", "address"],
      message: device
        ? `required: the device table knows no I2C bootloader address for ${device.name} (${module.device}); give it, or find it with \`subflash scan --i2c <bus>\` or i2cdetect (bootloader I2C v1.2 answers probes)`
        : `required: "${module.device}" is not in the device table, so there is no default I2C bootloader address`,
    });
    return z.NEVER;
  }
  return { ...module, transport: { ...module.transport, i2c: { ...i2c, address } } };
});

function deviceOf(device: string | number): DeviceInfo | undefined {
  if (typeof device === "number") return findDevice(device);
  try {
    return resolveDevice(device);
  } catch {
    return undefined; // reported by the semantic checks (config.ts) once the shape is valid
  }
}

export const mqttSchema = z.strictObject({
  // host:port or an mqtt/mqtts/ws/wss URL with a valid port, normalized (src/util/broker-url.ts).
  url: z.string().transform((value, ctx) => {
    try {
      return parseBrokerUrl(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message.replace(/ \[bad-url\]$/, "") });
      return z.NEVER;
    }
  }),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z.string().min(1).optional(),
  prefix: z
    .string()
    .regex(/^[^#+/][^#+]*$/, "a topic prefix without wildcards or a leading '/'")
    .default("subflash"),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional(),
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time "HH:MM" (24 h)');
const maintenanceWindowSchema = z
  .strictObject({
    days: z.array(z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])).min(1),
    start: hhmm,
    end: hhmm,
    timeZone: z
      .string()
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat("en-US", { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, "an IANA time zone such as Europe/Berlin")
      .optional(),
  })
  .refine((w) => w.start !== w.end, "start and end must differ");

export const configSchema = z.strictObject({
  gateway: z.strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' or '-', at most 64"),
    groups: z.array(z.string().regex(/^[^#+/]+$/, "a group name without '/', '#' or '+'")).default([]),
  }),
  mqtt: mqttSchema.optional(),
  /** Trust store of Ed25519 public keys (relative paths are relative to the config file). */
  trustStore: z.string().min(1),
  /** Where the journal, state and image store live (relative to the config file). */
  stateDir: z.string().min(1),
  /**
   * A second home for the anti-replay floors (`floors.json`: last sequences and security floors,
   * checksummed). Put it on another file system or disk than `stateDir` so that losing one does not
   * lose both; default: `stateDir`.
   */
  state: z
    .strictObject({
      mirrorDir: z.string().min(1).optional(),
    })
    .default({}),
  /**
   * No update loops: a bundle whose attempt failed (and was put back) is tried again after a back-off
   * that doubles from `backoffMs` up to `maxBackoffMs`; after `attempts` failed attempts it is
   * quarantined until a newer sequence or a signed `retry` command. `attempts: 1` never retries on
   * its own.
   */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(100).default(3),
      backoffMs: positiveMs.default(60_000),
      maxBackoffMs: positiveMs.default(3_600_000),
    })
    .refine((r) => r.maxBackoffMs >= r.backoffMs, "maxBackoffMs must be at least backoffMs")
    .default({ attempts: 3, backoffMs: 60_000, maxBackoffMs: 3_600_000 }),
  /** Clock skew allowed when checking a manifest's issue and expiry times. */
  clockSkewSeconds: z.number().int().nonnegative().default(300),
  downloads: z
    .strictObject({
      /** Extra CA certificate (PEM file) for HTTPS image downloads. */
      ca: z.string().min(1).optional(),
      attempts: z.number().int().min(1).max(20).default(5),
      /** A connection silent for this long is dropped (and the download resumed by the next attempt). */
      idleTimeoutMs: positiveMs.default(30_000),
    })
    .default({ attempts: 5, idleTimeoutMs: 30_000 }),
  /**
   * What start-up does with a run the journal shows unfinished: "resume" it (the default; a run whose
   * release has expired is rolled back instead) or "rollback" everything it changed.
   */
  recovery: z.enum(["resume", "rollback"]).default("resume"),
  /**
   * Reconciliation with the modules (src/gateway/reconcile): what each module holds is checked against
   * what the gateway believes, at start-up and every `intervalMinutes`. `method`: "crc" checks the
   * active image on the device (Get Checksum where the bootloader offers it, else read-back),
   * "readback" always reads it back, "probe" only asks the running application (no bootloader entry,
   * for modules whose reads are too costly). `repair: auto` puts the recorded firmware back from the
   * image store when they differ; `report` only says so.
   */
  reconcile: z
    .strictObject({
      atStart: z.boolean().default(true),
      intervalMinutes: z.number().positive().optional(),
      repair: z.enum(["auto", "report"]).default("report"),
      method: z.enum(["crc", "readback", "probe"]).default("crc"),
    })
    .default({ atStart: true, repair: "report", method: "crc" }),
  /**
   * The state directory's storage faults (src/gateway/store/reserve.ts, run/storage-halt.ts):
   * `reserveBytes` of space held back in `reserve.bin` and freed when the disk fills up in the middle
   * of a run, so the undo's journal writes still succeed (0: no reserve); every `checkSeconds` a
   * missing reserve is written again, and a run halted by the storage is retried at most that far apart.
   */
  storage: z
    .strictObject({
      reserveBytes: z
        .number()
        .int()
        .min(0)
        .max(1024 * 1024 * 1024)
        .default(1024 * 1024),
      checkSeconds: z.number().positive().max(3600).default(30),
    })
    .default({ reserveBytes: 1024 * 1024, checkSeconds: 30 }),
  /** Bundle-wide limit on modules updated at once (the manifest may lower it). */
  maxParallel: z.number().int().min(1).max(64).default(4),
  /** When bundle installs may start (src/gateway/run/window.ts); absent: any time. */
  maintenanceWindows: z.array(maintenanceWindowSchema).optional(),
  modules: z.array(moduleSchema).min(1, "at least one module"),
  /** Home Assistant MQTT discovery: one device per gateway, an update entity per module (docs/home-assistant.md). */
  homeAssistant: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Home Assistant's discovery prefix (its MQTT integration setting). */
      prefix: z
        .string()
        .regex(/^[^#+/][^#+]*$/, "a topic prefix without wildcards or a leading '/'")
        .default("homeassistant"),
    })
    .default({ enabled: true, prefix: "homeassistant" }),
  /**
   * The local HTTP endpoint (status page, /metrics, /api/status, /healthz); off when absent. Read-only.
   * Loopback by default; give a `token` (sent as "Authorization: Bearer …") when it listens elsewhere.
   */
  http: z
    .strictObject({
      listen: z
        .string()
        .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected "host:port", e.g. "127.0.0.1:8080"')
        .default("127.0.0.1:8080"),
      token: z.string().min(16, "at least 16 characters").optional(),
    })
    .optional(),
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;
export type ModuleConfig = GatewayConfig["modules"][number];
export type EntryConfig = z.infer<typeof entrySchema>;
export type LayoutConfig = z.infer<typeof layoutSchema>;
export type AbLayoutConfig = Extract<LayoutConfig, { kind: "ab" }>;
export type HealthConfig = z.infer<typeof healthSchema>;
export type TimeoutsConfig = z.infer<typeof timeoutsSchema>;
export type MqttConfig = z.infer<typeof mqttSchema>;
export type ReconcileConfig = GatewayConfig["reconcile"];
export type UsartConfig = z.infer<typeof usartSchema>;
export type I2cConfig = NonNullable<ModuleConfig["transport"]["i2c"]>;

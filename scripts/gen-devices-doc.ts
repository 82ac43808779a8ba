/** Writes docs/devices.md from the device table: `npx tsx scripts/gen-devices-doc.ts`. */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderDevicesMarkdown } from "../src/targets/stm32/device-summary.js";

const target = fileURLToPath(new URL("../docs/devices.md", import.meta.url));
writeFileSync(target, renderDevicesMarkdown());
console.log(`wrote ${target}`);

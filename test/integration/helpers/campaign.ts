/** Shared set-up of the campaign tests: a simulated fleet, a signed bundle on disk, a spec. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { connectOperator } from "../../../src/mqtt/operator/operator.js";
import type { MqttConnection } from "../../../src/mqtt/operator/index.js";
import { parseCampaignSpec } from "../../../src/mqtt/operator/campaign/spec.js";
import type { CampaignSpec } from "../../../src/mqtt/operator/campaign/spec.js";
import { writeKeyFiles } from "../../../src/signing/index.js";
import type { SigningKey } from "../../../src/signing/index.js";
import { DEMO_FLEET, fleetBundle } from "../../../src/sim/world/fleet.js";

/** A bundle for every module of the demo product, for group "fleet". */
export function releaseBundle(key: SigningKey, sequence: number, version = "2.0.0"): Uint8Array {
  return fleetBundle(
    {
      sequence,
      release: `release-${version}`,
      groups: ["fleet"],
      modules: Object.fromEntries(DEMO_FLEET.map((m) => [m.id, { version }])),
      imageSize: 4096,
    },
    key,
    DEMO_FLEET,
  );
}

export interface CampaignFiles {
  dir: string;
  specPath: string;
  bundlePath: string;
  keyPath: string;
  stateDir: string;
  spec: CampaignSpec;
}

/** Writes the bundle, the secret key and campaign.yaml into a new directory. */
export async function campaignFiles(
  key: SigningKey,
  bundle: Uint8Array,
  spec: Record<string, unknown>,
): Promise<CampaignFiles> {
  const dir = mkdtempSync(join(tmpdir(), "subflash-campaign-"));
  const bundlePath = join(dir, "release.bundle");
  writeFileSync(bundlePath, bundle);
  const { secretPath } = await writeKeyFiles(join(dir, "release"), key);
  const raw = { bundle: "release.bundle", ...spec };
  const specPath = join(dir, "campaign.yaml");
  writeFileSync(specPath, stringify(raw));
  return {
    dir,
    specPath,
    bundlePath,
    keyPath: secretPath,
    stateDir: join(dir, "state"),
    spec: parseCampaignSpec(raw),
  };
}

export function operator(url: string): Promise<MqttConnection> {
  return connectOperator({ broker: url });
}

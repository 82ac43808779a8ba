/** What a campaign reads from a gateway's retained status (src/mqtt/operator/campaign/outcome.ts). */
import { describe, expect, it } from "vitest";
import { observe } from "../../src/mqtt/operator/campaign/outcome.js";

describe("campaign outcome", () => {
  it("counts a quarantined bundle as failed with its reason, not as still in progress", () => {
    const observed = observe(
      {
        gateway: "gw-1",
        seq: 3,
        bundle: {
          release: "r-7",
          sequence: 7,
          state: "quarantined",
          error: { code: "quarantined", message: "failed 3 of 3 attempts" },
        },
      },
      7,
    );
    expect(observed).toEqual({
      outcome: "failed",
      error: { code: "quarantined", message: "failed 3 of 3 attempts" },
    });
  });
});

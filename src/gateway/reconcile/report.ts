/**
 * How reconciliation shows: each finding on its module's status (a mismatch as `lastError` with its
 * code, a learned version as `version`) and as a `reconcile` event. A module found consistent keeps
 * its status untouched; the event alone says it was checked.
 */
import type { StatusBoard } from "../status/board.js";
import type { StateStore } from "../store/state-store.js";
import type { GatewayEventDraft } from "../status/types.js";
import { describeFinding, type ModuleFinding } from "./findings.js";

export function reportFindings(
  findings: readonly ModuleFinding[],
  board: StatusBoard,
  state: StateStore,
  emit: (event: GatewayEventDraft) => void,
): void {
  board.syncFromState(state);
  for (const finding of findings) {
    const note = describeFinding(finding);
    switch (finding.kind) {
      case "consistent":
        emit({ type: "reconcile", module: finding.module, version: finding.version, note, error: null });
        break;
      case "learned":
        board.update(finding.module, {
          version: finding.installed.version,
          activeSlot: finding.installed.slot,
          note,
        });
        emit({
          type: "reconcile",
          module: finding.module,
          version: finding.installed.version,
          note,
          error: null,
        });
        break;
      case "mismatch": {
        const error = {
          code: finding.code,
          message: finding.message,
          context: {
            module: finding.module,
            found: finding.found,
            method: finding.method,
            repaired: finding.repair.done,
          },
        };
        const version = board.module(finding.module)?.version ?? null;
        board.update(finding.module, { lastError: error, note });
        emit({ type: "reconcile", module: finding.module, version, note, error });
        break;
      }
      case "unchecked":
        board.update(finding.module, { note });
        emit({ type: "reconcile", module: finding.module, version: null, note, error: finding.error });
        break;
    }
  }
}

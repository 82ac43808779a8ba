import { SubflashError } from "../../../util/errors.js";

export type CampaignErrorCode =
  | "spec-invalid" // the campaign YAML does not match the schema or names a missing bundle
  | "bundle-invalid" // the bundle file is not a subflash bundle
  | "journal-mismatch" // the state directory holds another campaign (or another bundle) under this id
  | "journal-corrupt" // the journal cannot be read
  | "no-targets" // no gateway matched the targets, or none was eligible
  | "not-found"; // `campaign status ID`: nothing retained for that campaign

/** The operator-side campaign controller: its spec, journal and decisions. */
export class CampaignError extends SubflashError<CampaignErrorCode> {
  readonly domain = "campaign";
}

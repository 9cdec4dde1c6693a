/**
 * Digests in the worker: the hasher (hasher.ts) that computes, apart from every answer, the
 * SHA-256 of uploaded files storage reported none for. Listed before the features that record
 * such files (uploads, multipart), so it stops only after them.
 */
import type { Pool } from "@fleetdrop/db/pool";
import type { Store } from "@fleetdrop/storage/store";
import type { TWorkerFeature } from "../feature";
import type { Logger } from "../logger";
import { createObjectHasher, type TObjectHasher } from "./hasher";

export type TDigestFeature = TWorkerFeature & { readonly hasher: TObjectHasher };

export function createDigestFeature(deps: { pool: Pool; store: Store; log: Logger }): TDigestFeature {
  const hasher = createObjectHasher(deps);
  return {
    name: "digests",
    hasher,
    start: () => hasher.start(),
    stop: () => hasher.close(),
  };
}

/** The sessions store as the app under test sees it (same folder, bucket and secret). */
import { createStore } from "@fleetdrop/storage/config";
import type { Store } from "@fleetdrop/storage/store";

export const E2E_FS_SECRET = "e2e-fs-secret-0123456789";
/** WEBHOOK_SECRET_KEY of the dashboard and the worker: 32 bytes, base64. */
export const E2E_WEBHOOK_SECRET_KEY = "ZTJlLXdlYmhvb2stc2VjcmV0LWtleS0zMi1ieXRlcyE=";

export function openSessionsStore(options: { dir: string; bucket: string }): Store {
  return createStore({
    backend: "fs",
    bucket: options.bucket,
    rootDir: options.dir,
    publicUrl: "http://127.0.0.1:9000",
    accessKeyId: "fleetdrop",
    secretAccessKey: E2E_FS_SECRET,
  });
}

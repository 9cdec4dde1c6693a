/**
 * Credential changes wake the broker sync at once (PostgreSQL NOTIFY, sent in the same
 * transaction as the change, so it is delivered exactly when the change is visible). The sync
 * also reconciles periodically, so a change made without a notification (e.g. a dashboard
 * that updates `devices.enabled` directly) reaches the broker within one period.
 */
import type { TPrismaClient } from "@fleetdrop/db";

export const DEVICE_AUTH_CHANNEL = "fleetdrop_device_auth";

type TRawExecutor = Pick<TPrismaClient, "$executeRaw">;

export async function notifyDeviceAuthChanged(db: TRawExecutor, serial: string): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${DEVICE_AUTH_CHANNEL}, ${serial})`;
}

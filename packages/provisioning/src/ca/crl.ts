/**
 * Each device CA's revocation list, kept current in the database: it lists the CA's unexpired
 * certificates that are revoked (revoked_at reached, e.g. after a rotation's grace period), that
 * belong to a deleted device, or whose device is disabled (`certificateHold`, lifted when the
 * device is enabled again). A new CRL (next number) is signed when that set changes or the
 * current one is within two days of its nextUpdate — OpenSSL refuses every certificate of a CA
 * whose CRL has expired, so the broker sync calls this on every pass.
 */
import { createHash } from "node:crypto";
import { Prisma } from "@fleetdrop/db";
import type { TProvisioningContext } from "../context";
import { createCrl, isCrlReason, type TCrlReason } from "../crypto/x509";
import { loadSigner } from "./project-ca";

const CRL_VALIDITY_MS = 7 * 24 * 3600_000;
const REFRESH_BEFORE_MS = 2 * 24 * 3600_000;

export type TCrlEntry = { serialNumber: string; revokedAt: Date; reason: TCrlReason };

type TRow = { serial_number: string; revoked_at: Date | null; revocation_reason: string | null; orphan: boolean; enabled: boolean | null };

export async function crlEntries(ctx: TProvisioningContext, caId: string, now = new Date()): Promise<TCrlEntry[]> {
  const rows = await ctx.prisma.$queryRaw<TRow[]>(Prisma.sql`
    SELECT c.serial_number, c.revoked_at, c.revocation_reason, c.device_id IS NULL AS orphan, d.enabled
    FROM device_certificates c LEFT JOIN devices d ON d.id = c.device_id
    WHERE c.ca_id = ${caId}::uuid AND c.not_after > ${now}
      AND (c.revoked_at <= ${now} OR c.device_id IS NULL OR d.enabled = false)
    ORDER BY c.serial_number`);
  return rows.map((row) => {
    if (row.revoked_at && row.revoked_at <= now) {
      const reason = row.revocation_reason && isCrlReason(row.revocation_reason) ? row.revocation_reason : "unspecified";
      return { serialNumber: row.serial_number, revokedAt: row.revoked_at, reason };
    }
    return { serialNumber: row.serial_number, revokedAt: now, reason: row.orphan ? "cessationOfOperation" : "certificateHold" };
  });
}

const digestOf = (entries: TCrlEntry[]) =>
  createHash("sha256")
    .update(entries.map((entry) => `${entry.serialNumber}:${entry.reason}`).join("\n"))
    .digest("hex");

/** Signs new CRLs where needed; returns how many CAs got one. */
export async function refreshCrls(ctx: TProvisioningContext, options: { force?: boolean } = {}): Promise<number> {
  const now = new Date();
  const cas = await ctx.prisma.deviceCa.findMany({
    where: { notAfter: { gt: now } },
    select: { id: true, crlNumber: true, crlPem: true, crlNextUpdate: true, crlDigest: true },
  });
  let refreshed = 0;
  for (const ca of cas) {
    const entries = await crlEntries(ctx, ca.id, now);
    const digest = digestOf(entries);
    const fresh =
      ca.crlPem && ca.crlNextUpdate && ca.crlNextUpdate.getTime() - now.getTime() > REFRESH_BEFORE_MS && ca.crlDigest === digest;
    if (fresh && !options.force) continue;
    const number = ca.crlNumber + 1;
    const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
    const crlPem = await createCrl({ signer: await loadSigner(ctx, ca.id), number, nextUpdate, entries });
    // Optimistic: if another sync signed one meanwhile, keep theirs.
    const updated = await ctx.prisma.deviceCa.updateMany({
      where: { id: ca.id, crlNumber: ca.crlNumber },
      data: { crlNumber: number, crlPem, crlNextUpdate: nextUpdate, crlDigest: digest },
    });
    refreshed += updated.count;
  }
  return refreshed;
}

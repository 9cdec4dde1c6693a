import "server-only";
import { CAN } from "@/lib/roles";
import type { TApiTokenCreate, TApiTokenScope } from "@/lib/api-token-forms";
import { db } from "@/server/db";
import { ForbiddenError, NotFoundError } from "@/server/errors";
import { requireRole, type TProjectContext, type TUserProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";
import { generateApiToken } from "./token-secret";

export type TApiTokenRow = {
  id: string;
  name: string;
  /** `fd_<prefix>`: what the token starts with, to tell tokens apart. */
  displayPrefix: string;
  scope: TApiTokenScope;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  status: "active" | "expired" | "revoked";
};

/** Tokens are managed by people in the dashboard only: a token cannot mint or revoke tokens. */
function requireTokenAdmin(ctx: TProjectContext): asserts ctx is TUserProjectContext {
  requireRole(ctx, CAN.manageApiTokens);
  if (!ctx.user) throw new ForbiddenError("API tokens are managed in the dashboard");
}

/** Creates a token; the secret is in the answer and nowhere else (only its hash is stored). */
export async function createApiToken(options: {
  ctx: TProjectContext;
  input: TApiTokenCreate;
  now?: Date;
}): Promise<{ id: string; token: string; expiresAt: string | null }> {
  const { ctx, input } = options;
  requireTokenAdmin(ctx);
  const now = options.now ?? new Date();
  const expiresAt = input.expires === "never" ? null : new Date(now.getTime() + Number(input.expires) * 86_400_000);
  const secret = generateApiToken();
  const row = await db().apiToken.create({
    data: {
      projectId: ctx.project.id,
      name: input.name,
      prefix: secret.prefix,
      tokenHash: secret.hash,
      scope: input.scope,
      expiresAt,
      createdById: ctx.user.id,
      createdByLabel: ctx.user.email,
    },
    select: { id: true },
  });
  await writeAudit(ctx, {
    action: "api_token.create",
    targetType: "api_token",
    targetId: row.id,
    details: { name: input.name, prefix: `fd_${secret.prefix}`, scope: input.scope, expiresAt: expiresAt?.toISOString() ?? null },
  });
  return { id: row.id, token: secret.token, expiresAt: expiresAt?.toISOString() ?? null };
}

/** The project's tokens, newest first (revoked ones stay listed, for the record). */
export async function listApiTokens(options: { ctx: TProjectContext; now?: Date }): Promise<TApiTokenRow[]> {
  requireTokenAdmin(options.ctx);
  const now = options.now ?? new Date();
  const rows = await db().apiToken.findMany({
    where: { projectId: options.ctx.project.id },
    orderBy: [{ revokedAt: { sort: "desc", nulls: "first" } }, { createdAt: "desc" }],
    take: 500,
    select: {
      id: true,
      name: true,
      prefix: true,
      scope: true,
      createdAt: true,
      createdByLabel: true,
      expiresAt: true,
      lastUsedAt: true,
      revokedAt: true,
    },
  });
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    displayPrefix: `fd_${r.prefix}`,
    scope: r.scope,
    createdAt: r.createdAt.toISOString(),
    createdBy: r.createdByLabel,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
    status: r.revokedAt ? "revoked" : r.expiresAt && r.expiresAt <= now ? "expired" : "active",
  }));
}

/** Revokes a token of the project at once (the next request with it is a 401). */
export async function revokeApiToken(options: { ctx: TProjectContext; tokenId: string }): Promise<void> {
  const { ctx } = options;
  requireTokenAdmin(ctx);
  if (!/^[0-9a-f-]{36}$/i.test(options.tokenId)) throw new NotFoundError("No such token");
  const token = await db().apiToken.findFirst({
    where: { id: options.tokenId, projectId: ctx.project.id },
    select: { id: true, name: true, prefix: true, revokedAt: true },
  });
  if (!token) throw new NotFoundError("No such token");
  if (token.revokedAt) return;
  await db().apiToken.update({ where: { id: token.id }, data: { revokedAt: new Date() } });
  await writeAudit(ctx, {
    action: "api_token.revoke",
    targetType: "api_token",
    targetId: token.id,
    details: { name: token.name, prefix: `fd_${token.prefix}` },
  });
}

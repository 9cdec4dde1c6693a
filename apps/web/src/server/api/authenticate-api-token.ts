import "server-only";
import { env } from "@/env";
import type { TRole } from "@/lib/roles";
import { db } from "@/server/db";
import type { TTokenProjectContext } from "@/server/auth/project-context";
import { countHits, pruneHits } from "@/server/rate-limit/window-counters";
import { apiTokenMatches, apiTokenPrefix } from "@/server/api-tokens/token-secret";
import { ApiProblem } from "./problem";

const RATE_WINDOW_MS = 60_000;
const RATE_KEY = "api-token:";
/** lastUsedAt is refreshed at most this often, so a busy token does not write on every request. */
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * The role a token acts with in the domain functions: read tokens as members (browse and read
 * file contents), read-and-write tokens as admins (manage sessions, send commands). What a
 * read token may not do is refused before that, by scope (with-api-token.ts).
 */
const SCOPE_ROLE: Record<"read" | "write", TRole> = { read: "member", write: "admin" };

const unauthorized = (code: string, message: string) =>
  new ApiProblem(401, code, message, { headers: { "WWW-Authenticate": `Bearer realm="fleetdrop", error="invalid_token"` } });

/**
 * The project context of the request's `Authorization: Bearer fd_…` token, or an ApiProblem:
 * 401 without a token, or with one that is unknown, revoked or expired; 429 beyond
 * API_RATE_LIMIT_PER_MINUTE. Cookies are never looked at: a dashboard sign-in alone reaches
 * nothing under /api/v1, so a forged cross-site request has no credential to borrow.
 */
export async function authenticateApiToken(request: Request, now = new Date()): Promise<TTokenProjectContext> {
  const header = request.headers.get("authorization") ?? "";
  const bearer = /^Bearer +(\S+) *$/i.exec(header)?.[1];
  if (!bearer) throw unauthorized("unauthorized", "Send a project API token: Authorization: Bearer fd_…");
  const prefix = apiTokenPrefix(bearer);
  const row = prefix
    ? await db().apiToken.findUnique({
        where: { prefix },
        select: {
          id: true,
          name: true,
          prefix: true,
          tokenHash: true,
          scope: true,
          expiresAt: true,
          revokedAt: true,
          lastUsedAt: true,
          project: { select: { id: true, slug: true, name: true } },
        },
      })
    : null;
  if (!row || !apiTokenMatches(bearer, row.tokenHash)) throw unauthorized("invalid_token", "The API token is not valid");
  if (row.revokedAt) throw unauthorized("token_revoked", "The API token was revoked");
  if (row.expiresAt && row.expiresAt <= now) throw unauthorized("token_expired", "The API token has expired");

  const key = `${RATE_KEY}${row.id}`;
  const hit = (await countHits({ keys: [key], now, windowMs: RATE_WINDOW_MS })).get(key)!;
  const limit = env.API_RATE_LIMIT_PER_MINUTE;
  if (hit.count > limit) {
    const retryAfter = Math.max(1, Math.ceil((hit.windowStart.getTime() + RATE_WINDOW_MS - now.getTime()) / 1000));
    throw new ApiProblem(429, "rate_limited", `At most ${limit} requests a minute per token: retry in ${retryAfter} s`, {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
  if (Math.random() < 0.01) await pruneHits({ prefix: RATE_KEY, before: new Date(now.getTime() - RATE_WINDOW_MS) });

  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS) {
    await db().apiToken.update({ where: { id: row.id }, data: { lastUsedAt: now } });
  }
  return {
    token: { id: row.id, name: row.name, prefix: row.prefix, scope: row.scope },
    project: row.project,
    role: SCOPE_ROLE[row.scope],
  };
}

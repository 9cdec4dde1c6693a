import "server-only";
import { db } from "@/server/db";
import { ForbiddenError } from "@/server/errors";
import { hasRole, type TRole } from "@/lib/roles";
import type { TSessionUser } from "./session-user";

export type TProjectRef = { id: string; slug: string; name: string };

/** A project API token acting through /api/v1 (server/api-tokens). */
export type TApiTokenActor = { id: string; name: string; prefix: string; scope: "read" | "write" };

type TContextBase = {
  project: TProjectRef;
  role: TRole;
  /** Client address, for the audit log. */
  ip?: string | null;
};

/** A signed-in person in the dashboard. */
export type TUserProjectContext = TContextBase & { user: TSessionUser; token?: undefined };
/** An API token: its role comes from its scope (see server/api-tokens/authenticate-api-token.ts). */
export type TTokenProjectContext = TContextBase & { user?: undefined; token: TApiTokenActor };

/**
 * Who is acting in which project, with which role. Every project-scoped domain function takes
 * one, so the dashboard and the REST API run the same checks.
 */
export type TProjectContext = TUserProjectContext | TTokenProjectContext;

/**
 * The user's context in a project, or null when the project does not exist or the user is
 * not a member: both look the same to the caller (a 404), so project slugs don't leak.
 */
export async function resolveProjectContext(user: TSessionUser, projectSlug: string): Promise<TUserProjectContext | null> {
  if (typeof projectSlug !== "string" || projectSlug.length > 64) return null;
  const membership = await db().membership.findFirst({
    where: { userId: user.id, project: { slug: projectSlug } },
    select: { role: true, project: { select: { id: true, slug: true, name: true } } },
  });
  if (!membership) return null;
  return { user, project: membership.project, role: membership.role };
}

/** Refuses unless the context's role is at least `role`. Domain functions call this first. */
export function requireRole(ctx: TProjectContext, role: TRole): void {
  if (!hasRole(ctx.role, role)) throw new ForbiddenError();
}

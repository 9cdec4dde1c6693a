import "server-only";
import { cache } from "react";
import { headers } from "next/headers";
import { forbidden, notFound, redirect } from "next/navigation";
import { hasRole, type TRole } from "@/lib/roles";
import { clientIp } from "./client-ip";
import { resolveProjectContext, type TUserProjectContext } from "./project-context";
import { getSessionUser, type TSessionUser } from "./session-user";

/** The signed-in user, or a redirect to the sign-in page. */
export async function requireUser(): Promise<TSessionUser> {
  const user = await getSessionUser();
  if (!user) redirect("/sign-in");
  return user;
}

/** Platform administrators only; others get the 403 page. */
export async function requirePlatformAdmin(): Promise<TSessionUser> {
  const user = await requireUser();
  if (!user.isAdmin) forbidden();
  return user;
}

const projectContext = cache(async (projectSlug: string) => {
  const user = await requireUser();
  const ctx = await resolveProjectContext(user, projectSlug);
  // Pages audit too (a preview is a read of the file): with the client's address.
  if (ctx) ctx.ip = clientIp(await headers());
  return ctx;
});

/**
 * A page's project context: 404 for projects the user is not a member of (or that do not
 * exist), 403 when the role is below what the page needs.
 */
export async function requireProjectPage(projectSlug: string, role: TRole = "viewer"): Promise<TUserProjectContext> {
  const ctx = await projectContext(decodeURIComponent(projectSlug));
  if (!ctx) notFound();
  if (!hasRole(ctx.role, role)) forbidden();
  return ctx;
}

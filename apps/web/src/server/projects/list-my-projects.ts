import "server-only";
import type { TRole } from "@/lib/roles";
import { db } from "@/server/db";
import type { TSessionUser } from "@/server/auth/session-user";

export type TMyProject = { slug: string; name: string; role: TRole };

/** The projects the user is a member of (and only those). */
export async function listMyProjects(options: { user: TSessionUser }): Promise<TMyProject[]> {
  const rows = await db().membership.findMany({
    where: { userId: options.user.id },
    orderBy: { project: { name: "asc" } },
    select: { role: true, project: { select: { slug: true, name: true } } },
  });
  return rows.map((r) => ({ slug: r.project.slug, name: r.project.name, role: r.role }));
}

import "server-only";
import { CAN, type TRole } from "@/lib/roles";
import { db } from "@/server/db";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";

export type TMemberRow = { userId: string; email: string; name: string; role: TRole; disabled: boolean; since: string };

export async function listMembers(options: { ctx: TProjectContext }): Promise<TMemberRow[]> {
  requireRole(options.ctx, CAN.browse);
  const rows = await db().membership.findMany({
    where: { projectId: options.ctx.project.id },
    orderBy: [{ role: "asc" }, { user: { email: "asc" } }],
    select: { role: true, createdAt: true, user: { select: { id: true, email: true, name: true, disabled: true } } },
  });
  return rows.map((r) => ({
    userId: r.user.id,
    email: r.user.email,
    name: r.user.name,
    role: r.role,
    disabled: r.user.disabled,
    since: r.createdAt.toISOString(),
  }));
}

import "server-only";
import { db } from "@/server/db";
import { ForbiddenError } from "@/server/errors";
import type { TSessionUser } from "@/server/auth/session-user";

export type TUserRow = {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  disabled: boolean;
  projects: number;
  createdAt: string;
};

export async function listUsers(options: { user: TSessionUser }): Promise<TUserRow[]> {
  if (!options.user.isAdmin) throw new ForbiddenError("Only platform administrators manage users");
  const users = await db().user.findMany({
    orderBy: { email: "asc" },
    select: {
      id: true,
      email: true,
      name: true,
      isAdmin: true,
      disabled: true,
      createdAt: true,
      _count: { select: { memberships: true } },
    },
  });
  return users.map((u) => ({
    id: u.id,
    email: u.email,
    name: u.name,
    isAdmin: u.isAdmin,
    disabled: u.disabled,
    projects: u._count.memberships,
    createdAt: u.createdAt.toISOString(),
  }));
}

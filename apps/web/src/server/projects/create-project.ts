import "server-only";
import { Prisma } from "@fleetdrop/db";
import { db } from "@/server/db";
import { ForbiddenError, UserInputError } from "@/server/errors";
import type { TSessionUser } from "@/server/auth/session-user";
import { writeAudit } from "@/server/audit/write-audit";

/** Platform administrators create projects; the creator becomes its owner. */
export async function createProject(options: {
  user: TSessionUser;
  ip: string | null;
  slug: string;
  name: string;
}): Promise<{ slug: string }> {
  const { user } = options;
  if (!user.isAdmin) throw new ForbiddenError("Only platform administrators create projects");
  try {
    const project = await db().project.create({
      data: { slug: options.slug, name: options.name, memberships: { create: { userId: user.id, role: "owner" } } },
      select: { id: true, slug: true, name: true },
    });
    await writeAudit(
      { user, project, ip: options.ip },
      { action: "project.create", targetType: "project", targetId: project.id, details: { slug: project.slug } },
    );
    return { slug: project.slug };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      throw new UserInputError("This address is taken by another project", "slug");
    }
    throw error;
  }
}

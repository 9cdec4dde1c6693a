import { describe, expect, it } from "vitest";
import { changeMemberRole } from "@/server/members/change-member-role";
import { inviteMember } from "@/server/members/invite-member";
import { removeMember } from "@/server/members/remove-member";
import { UserInputError } from "@/server/errors";
import { contextFor, makeProject, makeUser, prisma } from "./fixtures";

describe("members", () => {
  it("keep at least one owner", async () => {
    const owner = await makeUser();
    const project = await makeProject([{ user: owner, role: "owner" }]);
    const ctx = contextFor(owner, project, "owner");
    await expect(changeMemberRole({ ctx, userId: owner.id, role: "admin" })).rejects.toThrow(/at least one owner/);
    await expect(removeMember({ ctx, userId: owner.id })).rejects.toBeInstanceOf(UserInputError);
    const second = await makeUser();
    await inviteMember({ ctx, email: second.email, role: "owner" });
    await changeMemberRole({ ctx, userId: owner.id, role: "admin" });
    expect((await prisma().membership.findFirstOrThrow({ where: { userId: owner.id, projectId: project.id } })).role).toBe("admin");
  });

  it("create an account for an unknown e-mail only when a platform admin invites", async () => {
    const owner = await makeUser();
    const admin = await makeUser({ isAdmin: true });
    const project = await makeProject([
      { user: owner, role: "owner" },
      { user: admin, role: "owner" },
    ]);
    const email = `fresh-${Date.now()}@example.test`;
    await expect(inviteMember({ ctx: contextFor(owner, project, "owner"), email, role: "viewer" })).rejects.toThrow(
      /platform administrator/,
    );
    expect(await prisma().user.findUnique({ where: { email } })).toBeNull();
    const result = await inviteMember({ ctx: contextFor(admin, project, "owner"), email, role: "viewer", name: "Fresh" });
    expect(result.created).toBe(true);
    const { verifyPassword } = await import("@fleetdrop/db/passwords");
    const row = await prisma().user.findUniqueOrThrow({ where: { email }, select: { passwordHash: true, name: true } });
    expect(row.name).toBe("Fresh");
    expect(await verifyPassword(result.password!, row.passwordHash)).toBe(true);
  });
});

import "server-only";
import { Prisma } from "@fleetdrop/db";
import { generatePassword, hashPassword } from "@fleetdrop/db/passwords";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { UserInputError } from "@/server/errors";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { writeAudit } from "@/server/audit/write-audit";

/**
 * Registers a password-authenticated device. The MQTT password is generated here, stored
 * only as a hash, and returned once for the admin to copy onto the device.
 */
export async function createDevice(options: { ctx: TProjectContext; serial: string; name: string }): Promise<{ serial: string; password: string }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const password = generatePassword();
  try {
    await db().device.create({
      data: { serial: options.serial, name: options.name, projectId: ctx.project.id, authMode: "password", passwordHash: await hashPassword(password) },
      select: { id: true },
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
      // Serials are unique across the platform: don't say in which project it is.
      throw new UserInputError("A device with this serial is already registered", "serial");
    }
    throw error;
  }
  await writeAudit(ctx, { action: "device.create", targetType: "device", targetId: options.serial, details: { name: options.name } });
  return { serial: options.serial, password };
}

/**
 * Puts the sample files into a session, as a device would: `tsx support/seed-demo-files.ts`
 * with DATABASE_URL, FS_STORE_DIR, FS_BUCKET (default fleetdrop), SESSION_ID (default: the
 * demo device's first session). For trying the dashboard locally.
 */
import { createPrismaClient } from "@fleetdrop/db";
import { uploadFile } from "./device-upload";
import { demoFiles } from "./sample-files";
import { openSessionsStore } from "./store";

const prisma = createPrismaClient({ databaseUrl: process.env.DATABASE_URL! });
const store = openSessionsStore({ dir: process.env.FS_STORE_DIR ?? ".fleetdrop/store", bucket: process.env.FS_BUCKET ?? "fleetdrop" });
const session = process.env.SESSION_ID
  ? await prisma.session.findUniqueOrThrow({
      where: { id: Number(process.env.SESSION_ID) },
      select: { id: true, device: { select: { serial: true } } },
    })
  : await prisma.session.findFirstOrThrow({ orderBy: { id: "asc" }, select: { id: true, device: { select: { serial: true } } } });
for (const file of demoFiles()) {
  await uploadFile(
    { prisma, store, deviceSerial: session.device.serial, sessionId: session.id },
    file.filename,
    file.body,
    file.contentType,
  );
}
console.log(`uploaded ${demoFiles().length} files to session ${session.id}`);
await prisma.$disconnect();

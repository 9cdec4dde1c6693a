/** A file sent over MQTT (file_transfer) carries the device's user_data; the file page shows it. */
import { describe, expect, it } from "vitest";
import { getFile } from "@/server/files/get-file";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

describe("user_data of a file", () => {
  it("is returned pretty-printed with the file's details, and null when the device sent none", async () => {
    const viewer = await makeUser();
    const project = await makeProject([{ user: viewer, role: "viewer" }]);
    const device = await makeDevice(project.id);
    const session = await makeSession(device, project.id);
    const withData = await makeFile(session.id, device.serial, "scan.bin");
    await prisma().file.update({ where: { id: withData.id }, data: { userData: { lens: "wide", frames: [1, 2] } } });
    const without = await makeFile(session.id, device.serial, "plain.bin");
    const ctx = contextFor(viewer, project, "viewer");
    expect((await getFile({ ctx, fileId: withData.id })).userData).toBe(JSON.stringify({ lens: "wide", frames: [1, 2] }, null, 2));
    expect((await getFile({ ctx, fileId: without.id })).userData).toBeNull();
  });
});

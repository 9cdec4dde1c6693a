import { describe, expect, it } from "vitest";
import { deleteDevice } from "@/server/devices/delete-device";
import { getDevice } from "@/server/devices/get-device";
import { deleteSession } from "@/server/sessions/delete-session";
import { ForbiddenError, NotFoundError } from "@/server/errors";
import { sessionsStore } from "@/server/stores/sessions-store";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

async function deviceWithFiles() {
  const admin = await makeUser();
  const member = await makeUser();
  const project = await makeProject([
    { user: admin, role: "admin" },
    { user: member, role: "member" },
  ]);
  const device = await makeDevice(project.id);
  const keep = await makeDevice(project.id);
  const sessions = [await makeSession(device, project.id), await makeSession(device, project.id)];
  const kept = await makeSession(keep, project.id);
  const keys: string[] = [];
  for (const [i, s] of sessions.entries()) {
    const key = `sessions/${device.serial}/${s.id}/f${i}.txt`;
    await sessionsStore().put(key, `file ${i}`, { contentType: "text/plain" });
    await makeFile(s.id, device.serial, `f${i}.txt`, { size: 6 });
    keys.push(key);
  }
  const keptKey = `sessions/${keep.serial}/${kept.id}/k.txt`;
  await sessionsStore().put(keptKey, "kept", { contentType: "text/plain" });
  await makeFile(kept.id, keep.serial, "k.txt", { size: 4 });
  return { admin: contextFor(admin, project, "admin"), member: contextFor(member, project, "member"), device, sessions, keys, keptKey };
}

describe("deleting devices and sessions", () => {
  it("says what a device delete removes, then removes rows and stored objects of that device only", async () => {
    const w = await deviceWithFiles();
    expect((await getDevice({ ctx: w.admin, serial: w.device.serial })).impact).toEqual({
      sessions: 2,
      files: 2,
      uploadedFiles: 2,
      bytes: "12",
    });
    await expect(deleteDevice({ ctx: w.member, serial: w.device.serial })).rejects.toBeInstanceOf(ForbiddenError);
    expect(await deleteDevice({ ctx: w.admin, serial: w.device.serial })).toEqual({ sessions: 2, files: 2, objectsLeft: 0 });
    expect(await prisma().session.count({ where: { deviceId: w.device.id } })).toBe(0);
    for (const key of w.keys) expect(await sessionsStore().head(key)).toBeNull();
    expect(await sessionsStore().head(w.keptKey)).not.toBeNull();
    await expect(getDevice({ ctx: w.admin, serial: w.device.serial })).rejects.toBeInstanceOf(NotFoundError);
    expect(await prisma().auditLog.findFirst({ where: { action: "device.delete", targetId: w.device.serial } })).toMatchObject({
      details: { sessions: 2, files: 2 },
    });
  });

  it("deletes one session with its files and objects", async () => {
    const w = await deviceWithFiles();
    expect(await deleteSession({ ctx: w.admin, sessionId: w.sessions[0]!.id })).toEqual({ files: 1, objectsLeft: 0 });
    expect(await sessionsStore().head(w.keys[0]!)).toBeNull();
    expect(await sessionsStore().head(w.keys[1]!)).not.toBeNull();
    await expect(deleteSession({ ctx: w.admin, sessionId: w.sessions[0]!.id })).rejects.toBeInstanceOf(NotFoundError);
  });
});

import { describe, expect, it, vi } from "vitest";
import type { Store, TPresignGetInput } from "@fleetdrop/storage/store";
import { fileResponse } from "@/server/files/file-response";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

const presigned: TPresignGetInput[] = [];
vi.mock("@/server/stores/sessions-store", () => ({
  sessionsStore: (): Partial<Store> => ({
    backend: "s3",
    presignGet: async (input) => {
      presigned.push(input);
      return `https://robot-files.s3.amazonaws.com/${input.key}?X-Amz-Signature=abc`;
    },
  }),
}));

describe("downloads with the s3 backend", () => {
  it("authorise, audit, then redirect to a short-lived presigned GET with the file's name", async () => {
    const user = await makeUser();
    const project = await makeProject([{ user, role: "member" }]);
    const device = await makeDevice(project.id);
    const session = await makeSession(device, project.id);
    const file = await makeFile(session.id, device.serial, "camera/img 1.jpg", { contentType: "image/jpeg" });
    const response = await fileResponse({
      ctx: contextFor(user, project, "member"),
      fileId: file.id,
      disposition: "attachment",
      range: null,
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(
      `https://robot-files.s3.amazonaws.com/sessions/${device.serial}/${session.id}/camera/img 1.jpg?X-Amz-Signature=abc`,
    );
    expect(presigned).toEqual([
      {
        key: `sessions/${device.serial}/${session.id}/camera/img 1.jpg`,
        expiresIn: 60,
        downloadName: "img 1.jpg",
        disposition: "attachment",
        contentType: "image/jpeg",
      },
    ]);
    expect(await prisma().auditLog.count({ where: { action: "file.download", targetId: file.id } })).toBe(1);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import { ZFileListQuerySchema } from "@/lib/list-queries";
import { listFiles } from "@/server/files/list-files";
import { fileResponse } from "@/server/files/file-response";
import { readTextPreview, PREVIEW_WINDOW_BYTES } from "@/server/files/read-text-preview";
import { sessionArchiveResponse } from "@/server/files/session-archive";
import { sessionsStore } from "@/server/stores/sessions-store";
import { contextFor, makeDevice, makeFile, makeProject, makeSession, makeUser, prisma } from "./fixtures";

const q = (value: Record<string, unknown> = {}) => ZFileListQuerySchema.parse(value);

let ctx: ReturnType<typeof contextFor>;
let sessionId: number;
let serial: string;

async function stored(filename: string, body: string | Buffer, contentType: string) {
  const key = `sessions/${serial}/${sessionId}/${filename}`;
  await sessionsStore().put(key, body, { contentType });
  const file = await makeFile(sessionId, serial, filename, { contentType, size: Buffer.byteLength(body) });
  await prisma().file.update({ where: { id: file.id }, data: { etag: '"e"' } });
  return file;
}

beforeAll(async () => {
  const user = await makeUser();
  const project = await makeProject([{ user, role: "member" }]);
  const device = await makeDevice(project.id);
  serial = device.serial;
  sessionId = (await makeSession(device, project.id)).id;
  ctx = contextFor(user, project, "member");
  for (let i = 0; i < 130; i++)
    await makeFile(sessionId, serial, `frame_${String(i).padStart(3, "0")}.jpg`, { contentType: "image/jpeg", size: i + 1 });
  await makeFile(sessionId, serial, "logs/a.log", { contentType: "text/plain", size: 5 });
  await makeFile(sessionId, serial, "logs/deep/b.log", { contentType: "text/plain", size: 7 });
  await makeFile(sessionId, serial, "pending.bin", { state: "pending" });
});

describe("listFiles", () => {
  it("lists one folder level with implied sub-folders and pages of 100", async () => {
    const page1 = await listFiles({ ctx, sessionId, query: q() });
    expect(page1.folders).toEqual([{ name: "logs", path: "logs/", files: 2, bytes: "12" }]);
    expect(page1.total).toBe(131);
    expect(page1.rows).toHaveLength(100);
    expect(page1.rows[0]!.filename).toBe("frame_000.jpg");
    const page2 = await listFiles({ ctx, sessionId, query: q({ page: "2" }) });
    expect(page2.rows.map((r) => r.filename)).toContain("pending.bin");
    expect(page2.counts).toMatchObject({ all: 133, pending: 1, uploaded: 132 });

    const logs = await listFiles({ ctx, sessionId, query: q({ path: "logs/" }) });
    expect(logs.rows.map((r) => r.name)).toEqual(["a.log"]);
    expect(logs.folders).toEqual([{ name: "deep", path: "logs/deep/", files: 1, bytes: "7" }]);
  });

  it("searches below the folder, filters by state and kind, and sorts", async () => {
    expect((await listFiles({ ctx, sessionId, query: q({ q: "b.lo" }) })).rows.map((r) => r.filename)).toEqual(["logs/deep/b.log"]);
    expect((await listFiles({ ctx, sessionId, query: q({ state: "pending" }) })).rows.map((r) => r.filename)).toEqual(["pending.bin"]);
    expect((await listFiles({ ctx, sessionId, query: q({ kind: "text", q: "log" }) })).total).toBe(2);
    expect((await listFiles({ ctx, sessionId, query: q({ kind: "other" }) })).rows.map((r) => r.filename)).toEqual(["pending.bin"]);
    const bySize = await listFiles({ ctx, sessionId, query: q({ sort: "size" }) });
    expect(bySize.rows[0]!.filename).toBe("frame_129.jpg");
    // A LIKE wildcard in the search is a plain character.
    expect((await listFiles({ ctx, sessionId, query: q({ q: "%" }) })).total).toBe(0);
  });
});

describe("previews and downloads", () => {
  it("reads only the head and tail of a large log", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i + 1} ${"x".repeat(20)}`);
    const file = await stored("big.log", `${lines.join("\n")}\n`, "text/plain");
    const preview = await readTextPreview({ ctx, fileId: file.id });
    expect(preview.truncated).toBe(true);
    expect(preview.head[0]).toBe(lines[0]);
    expect(preview.head).toHaveLength(200);
    expect(preview.tail.at(-1)).toBe(lines.at(-1));
    expect(preview.tail).toHaveLength(200);
    expect(preview.skippedBytes).toBe(preview.size - 2 * PREVIEW_WINDOW_BYTES);
  });

  it("shows a small file whole", async () => {
    const file = await stored("small.txt", "one\ntwo\n", "text/plain");
    expect(await readTextPreview({ ctx, fileId: file.id })).toMatchObject({ truncated: false, head: ["one", "two"], tail: [] });
  });

  it("streams a download with its name, and serves byte ranges inline", async () => {
    const file = await stored("clips/ünïcode clip.txt", "0123456789", "text/plain");
    const download = await fileResponse({ ctx, fileId: file.id, disposition: "attachment", range: null });
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe(
      `attachment; filename="_n_code clip.txt"; filename*=UTF-8''%C3%BCn%C3%AFcode%20clip.txt`,
    );
    expect(await download.text()).toBe("0123456789");
    const audit = await prisma().auditLog.findFirst({ where: { action: "file.download", targetId: file.id } });
    expect(audit).toMatchObject({ actorLabel: ctx.user.email, projectId: ctx.project.id });

    const partial = await fileResponse({ ctx, fileId: file.id, disposition: "inline", range: "bytes=2-5" });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await partial.text()).toBe("2345");
    expect((await fileResponse({ ctx, fileId: file.id, disposition: "inline", range: "bytes=50-" })).status).toBe(416);
  });

  it("never serves HTML or SVG inline as such", async () => {
    const svg = await stored("evil.svg", "<svg onload=alert(1)></svg>", "image/svg+xml");
    const html = await stored("evil.html", "<script>alert(1)</script>", "text/html");
    expect((await fileResponse({ ctx, fileId: svg.id, disposition: "inline", range: null })).headers.get("content-type")).toBe(
      "application/octet-stream",
    );
    const page = await fileResponse({ ctx, fileId: html.id, disposition: "inline", range: null });
    expect(page.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("sandbox");
  });

  it("zips the session's uploaded files, streaming", async () => {
    const response = await sessionArchiveResponse({ ctx, sessionId });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(bytes.includes(Buffer.from("0123456789"))).toBe(true);
    expect(bytes.includes(Buffer.from("clips/ünïcode clip.txt"))).toBe(true);
    // Rows whose object is not in storage (the 130 frames here) are left out, not fatal.
    expect(bytes.includes(Buffer.from("frame_000.jpg"))).toBe(false);
    expect(await prisma().auditLog.count({ where: { action: "session.download", targetId: String(sessionId) } })).toBe(1);
  });
});

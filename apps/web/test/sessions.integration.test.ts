import { beforeAll, describe, expect, it } from "vitest";
import { ZSessionListQuerySchema } from "@/lib/list-queries";
import { listSessions } from "@/server/sessions/list-sessions";
import { contextFor, makeDevice, makeFile, makeProject, makeUser, prisma } from "./fixtures";

const q = (value: Record<string, unknown> = {}) => ZSessionListQuerySchema.parse(value);
let ctx: ReturnType<typeof contextFor>;
const ids: Record<string, number> = {};

beforeAll(async () => {
  const user = await makeUser();
  const project = await makeProject([{ user, role: "viewer" }]);
  ctx = contextFor(user, project, "viewer");
  // Serials without digits, so a search for a session id matches no serial.
  const letters = () =>
    Math.random()
      .toString(36)
      .replace(/[^a-z]/g, "")
      .slice(0, 8);
  const a = await makeDevice(project.id, `ALPHA-${letters()}`);
  const b = await makeDevice(project.id, `BETA-${letters()}`);
  const mk = async (name: string, device: { id: string }, startedAt: string, state: "open" | "closed" = "closed") =>
    (ids[name] = (
      await prisma().session.create({
        data: { name, deviceId: device.id, projectId: project.id, startedAt: new Date(startedAt), state },
        select: { id: true },
      })
    ).id);
  await mk("charlie", a, "2026-03-01T10:00:00Z");
  await mk("alpha", a, "2026-03-02T10:00:00Z", "open");
  await mk("Bravo", b, "2026-03-03T23:59:00Z");
  for (let i = 0; i < 55; i++) await mk(`bulk ${i}`, b, "2025-01-01T00:00:00Z");
  await makeFile(ids.charlie!, a.serial, "x.bin", { size: 500 });
  await makeFile(ids.charlie!, a.serial, "y.bin", { size: 500 });
  await makeFile(ids.alpha!, a.serial, "big.bin", { size: 5000 });
  await makeFile(ids.alpha!, a.serial, "wait.bin", { state: "pending" });
});

describe("listSessions", () => {
  it("pages 50 at a time, newest first by default, with counts", async () => {
    const first = await listSessions({ ctx, query: q() });
    expect(first.total).toBe(58);
    expect(first.rows).toHaveLength(50);
    expect(first.rows.slice(0, 3).map((r) => r.name)).toEqual(["Bravo", "alpha", "charlie"]);
    expect(first.rows[1]).toMatchObject({ files: 2, pending: 1, bytes: "5000", state: "open" });
    expect((await listSessions({ ctx, query: q({ page: "2" }) })).rows).toHaveLength(8);
  });

  it("sorts by name (case-insensitive), files and bytes", async () => {
    const byName = await listSessions({ ctx, query: q({ sort: "name", q: "a" }) });
    expect(byName.rows.map((r) => r.name).slice(0, 3)).toEqual(["alpha", "Bravo", "bulk 0"]);
    expect((await listSessions({ ctx, query: q({ sort: "files" }) })).rows.slice(0, 2).map((r) => r.name)).toEqual(["alpha", "charlie"]);
    expect((await listSessions({ ctx, query: q({ sort: "bytes" }) })).rows[0]!.name).toBe("alpha");
    expect(
      (await listSessions({ ctx, query: q({ sort: "bytes", dir: "asc", state: "closed", q: "charlie" }) })).rows.map((r) => r.bytes),
    ).toEqual(["1000"]);
  });

  it("filters by device, state, date range (whole UTC days), id and name", async () => {
    const alphaDevice = (await listSessions({ ctx, query: q({ q: "charlie" }) })).rows[0]!.deviceSerial;
    expect((await listSessions({ ctx, query: q({ device: alphaDevice }) })).rows.map((r) => r.name)).toEqual(["alpha", "charlie"]);
    expect((await listSessions({ ctx, query: q({ state: "open" }) })).rows.map((r) => r.name)).toEqual(["alpha"]);
    expect((await listSessions({ ctx, query: q({ from: "2026-03-02", to: "2026-03-03" }) })).rows.map((r) => r.name)).toEqual([
      "Bravo",
      "alpha",
    ]);
    // A number finds the session with that id (and names containing it).
    expect((await listSessions({ ctx, query: q({ q: String(ids.charlie) }) })).rows.map((r) => r.name)).toContain("charlie");
    expect((await listSessions({ ctx, query: q({ q: "CHARL" }) })).rows.map((r) => r.name)).toEqual(["charlie"]);
  });

  it("filters to the sessions with a file that arrived in a window (the overview's arrival bars), not those started in it", async () => {
    const at = (sessionId: number, filename: string, iso: string) =>
      prisma().file.updateMany({ where: { sessionId, filename }, data: { uploadedAt: new Date(iso) } });
    await at(ids.charlie!, "x.bin", "2026-03-05T10:15:00Z");
    await at(ids.charlie!, "y.bin", "2026-03-06T08:00:00Z");
    await at(ids.alpha!, "big.bin", "2026-03-05T10:45:00Z");
    const arrived = async (arrivedFrom: string, arrivedTo: string) =>
      (await listSessions({ ctx, query: q({ arrivedFrom, arrivedTo }) })).rows.map((r) => r.name);
    expect(await arrived("2026-03-05T10:00:00.000Z", "2026-03-05T11:00:00.000Z")).toEqual(["alpha", "charlie"]);
    expect(await arrived("2026-03-06T00:00:00.000Z", "2026-03-07T00:00:00.000Z")).toEqual(["charlie"]);
    // The window is half-open, and a pending file has not arrived.
    expect(await arrived("2026-03-05T10:45:01.000Z", "2026-03-05T12:00:00.000Z")).toEqual([]);
    // A malformed instant is ignored like every other bad list parameter: the whole list.
    expect((await listSessions({ ctx, query: q({ arrivedFrom: "yesterday", arrivedTo: "2026-03-07T00:00:00.000Z" }) })).total).toBe(58);
  });
});

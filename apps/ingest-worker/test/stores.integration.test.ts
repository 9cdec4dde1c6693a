/**
 * Stores, downloads and store uploads (docs/protocol.md#stores) through the real stack
 * (Mosquitto, PostgreSQL, the fs store behind the worker's endpoint): downloads from named stores
 * (allowed, forbidden, missing), uploads into a store, and the status report that becomes a
 * command-run record.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { postForm } from "@fleetdrop/device/upload";
import { parseAuditEvent } from "@fleetdrop/shared/audit";
import { ZErrorResponseSchema } from "@fleetdrop/shared/protocol/common";
import { ZDownloadResponseSchema, ZStoreUploadResponseSchema } from "@fleetdrop/shared/protocol/stores";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, rawDevice, sleep, type THarness } from "./harness";

let h: THarness;
let a: Awaited<ReturnType<typeof rawDevice>>;
let b: Awaited<ReturnType<typeof rawDevice>>;
let tmp: string;

beforeAll(async () => {
  h = await createHarness("stores");
  await h.startWorker();
  a = await rawDevice(h.broker, "ROBOT-A");
  b = await rawDevice(h.broker, "ROBOT-B");
  tmp = await mkdtemp(path.join(tmpdir(), "fd-stores-"));
  await h.namedStores.get("config")!.store.put("ROBOT-A/robot.yaml", "speed: 3\n", { contentType: "application/yaml" });
  await h.namedStores
    .get("apps")!
    .store.put("navigator/1.2.0/navigator.tar.gz", Buffer.alloc(70_000, 3), { contentType: "application/gzip" });
  await h.namedStores.get("status")!.store.put("ROBOT-A/monitor/last_monitoring_status.json", "{}", { contentType: "application/json" });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await h?.close();
});

const download = (device: typeof a, store: unknown, p: unknown) => device.ask("file_download/request", { store, path: p });

function expectError(body: Record<string, unknown>, status: number, code: string) {
  const parsed = ZErrorResponseSchema.parse(body);
  expect({ status: parsed.status, code: parsed.code }).toEqual({ status, code });
}

describe("file_download/request", () => {
  it("gives a device a signed URL for its own file in a per-device store, with size and ETag, and audits it", async () => {
    const body = ZDownloadResponseSchema.parse(await download(a, "config", "robot.yaml"));
    expect(body).toMatchObject({
      status: 200,
      size: 9,
      store: "config",
      path: "robot.yaml",
      object_key: "config/ROBOT-A/robot.yaml",
      expires_in: 3600,
      content_type: "application/yaml",
    });
    expect(body.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(body.url.startsWith(`http://127.0.0.1:${h.httpPort}/fs/fleetdrop/config/ROBOT-A/robot.yaml?`)).toBe(true);
    const response = await fetch(body.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("speed: 3\n");
    expect(response.headers.get("etag")).toBe(body.etag);

    await expect
      .poll(() => h.prisma.auditLog.findFirst({ where: { action: "store.download", actorLabel: "ROBOT-A" } }))
      .toMatchObject({
        actorType: "device",
        projectId: h.seed.projectId,
        targetType: "store_object",
        targetId: "config:ROBOT-A/robot.yaml",
        details: expect.objectContaining({ store: "config", path: "robot.yaml", size: 9, etag: body.etag }),
      });
  });

  it("serves shared stores to every device at the path as given", async () => {
    const body = ZDownloadResponseSchema.parse(await download(b, "apps", "navigator/1.2.0/navigator.tar.gz"));
    expect(body).toMatchObject({ size: 70_000, object_key: "apps/navigator/1.2.0/navigator.tar.gz" });
    const bytes = Buffer.from(await (await fetch(body.url)).arrayBuffer());
    expect(bytes.equals(Buffer.alloc(70_000, 3))).toBe(true);
  });

  it("never reaches another device's folder: the same path is the other device's own (missing) file, and escapes are 403", async () => {
    expectError(await download(b, "config", "robot.yaml"), 404, "object_not_found");
    expectError(await download(b, "config", "../ROBOT-A/robot.yaml"), 403, "path_not_allowed");
    expectError(await download(b, "config", "/ROBOT-A/robot.yaml"), 403, "path_not_allowed");
    expectError(await download(b, "apps", "navigator/../../config/ROBOT-A/robot.yaml"), 403, "path_not_allowed");
  });

  it("refuses stores devices may not read, unknown stores, and unknown or disabled devices", async () => {
    expectError(await download(a, "status", "monitor/last_monitoring_status.json"), 403, "store_access_denied");
    expectError(await download(a, "secrets", "x"), 404, "store_not_found");
    const off = await rawDevice(h.broker, h.seed.disabled);
    const ghost = await rawDevice(h.broker, "NOBODY-1");
    try {
      expectError(await download(off, "apps", "navigator/1.2.0/navigator.tar.gz"), 403, "device_disabled");
      expectError(await download(ghost, "apps", "navigator/1.2.0/navigator.tar.gz"), 403, "device_unknown");
    } finally {
      await off.close();
      await ghost.close();
    }
  });

  it("answers missing objects with 404 and bad payloads with the field's 400", async () => {
    expectError(await download(a, "config", "nothing-here.yaml"), 404, "object_not_found");
    expectError(await download(a, "Config!", "robot.yaml"), 400, "invalid_store");
    expectError(await download(a, "config", 42), 400, "invalid_path");
    expectError(await download(a, "config", "a//b"), 400, "invalid_path");
    expectError(await download(a, "config", ""), 400, "invalid_path");
  });

  it("answers on the MQTT 5 Response Topic with the Correlation Data when the device gives them", async () => {
    await a.send(
      "file_download/request",
      { store: "config", path: "robot.yaml" },
      { properties: { responseTopic: "fleetdrop/fleet/ROBOT-A/replies/dl", correlationData: Buffer.from("c-7") } },
    );
    const reply = await a.next((m) => m.topic === "fleetdrop/fleet/ROBOT-A/replies/dl");
    expect(reply.correlationData?.toString()).toBe("c-7");
    expect(reply.body).toMatchObject({ success: true, size: 9 });
  });
});

describe("uploads into a store (file_upload/request with store instead of session_id)", () => {
  const report = {
    general_status: "success",
    general_error: null,
    commands: [
      { command: "uptime", result: "up 3 days", status: "success" },
      { command: "df -h /", result: "/dev/sda1 40% /", status: "success" },
    ],
  };

  it("issues a form pinned to the device's folder; the stored report becomes a status-report record, once", async () => {
    const form = ZStoreUploadResponseSchema.parse(
      await a.ask("file_upload/request", {
        store: "status",
        filename: "monitor/last_monitoring_status.json",
        content_type: "application/json",
        size_mb: 1,
      }),
    );
    expect(form).toMatchObject({
      object_key: "status/ROBOT-A/monitor/last_monitoring_status.json",
      store: "status",
      path: "monitor/last_monitoring_status.json",
    });
    expect(form.fields).toMatchObject({ key: form.object_key, "Content-Type": "application/json" });
    const file = path.join(tmp, "report.json");
    const text = JSON.stringify(report);
    await writeFile(file, text);
    const stored = await postForm(form, {
      path: file,
      size: Buffer.byteLength(text),
      filename: "last_monitoring_status.json",
      contentType: "application/json",
    });
    expect(stored.status).toBe(204);

    const onDisk = await h.namedStores.get("status")!.store.head("ROBOT-A/monitor/last_monitoring_status.json");
    expect(onDisk?.size).toBe(Buffer.byteLength(text));
    const reports = () => h.prisma.auditLog.findMany({ where: { action: "device.status_report", targetId: "ROBOT-A/monitor" } });
    await expect.poll(async () => (await reports()).length).toBe(1);
    expect((await reports())[0]!.details).toMatchObject({ service: "monitor", etag: onDisk!.etag, report });

    // The device's completion report finds the same version: answered, not recorded twice.
    const completed = await a.ask("file_upload/complete", { object_key: form.object_key });
    expect(completed).toMatchObject({ success: true, state: "uploaded", size: onDisk!.size, etag: onDisk!.etag, store: "status" });
    await sleep(200);
    expect(await reports()).toHaveLength(1);
  });

  it("records a report that is not valid as an unreadable report rather than dropping it", async () => {
    const form = ZStoreUploadResponseSchema.parse(
      await a.ask("file_upload/request", {
        store: "status",
        filename: "camera/last_monitoring_status.json",
        content_type: "application/json",
      }),
    );
    const file = path.join(tmp, "bad.json");
    await writeFile(file, "{not json");
    await postForm(form, { path: file, size: 9, filename: "bad.json", contentType: "application/json" });
    await expect
      .poll(() => h.prisma.auditLog.findFirst({ where: { action: "device.status_report", targetId: "ROBOT-A/camera" } }))
      .toMatchObject({
        details: expect.objectContaining({ service: "camera", error: "the report is not valid JSON" }),
      });
  });

  it("refuses stores devices may not write, escapes, both session_id and store, and oversize requests", async () => {
    expectError(await a.ask("file_upload/request", { store: "config", filename: "robot.yaml" }), 403, "store_access_denied");
    expectError(
      await a.ask("file_upload/request", { store: "status", filename: "../ROBOT-B/x/last_monitoring_status.json" }),
      403,
      "path_not_allowed",
    );
    expectError(
      await a.ask("file_upload/request", { store: "status", session_id: h.seed.openA, filename: "x.json" }),
      400,
      "invalid_payload",
    );
    expectError(await a.ask("file_upload/request", { store: "status", filename: "x.json", size_mb: 101 }), 413, "file_too_large");
    expectError(await a.ask("file_upload/request", { store: "nope", filename: "x.json" }), 404, "store_not_found");
    expectError(
      await a.ask("file_upload/complete", { object_key: "status/ROBOT-A/never/uploaded.json" }),
      409,
      "upload_not_found_in_storage",
    );
    expectError(
      await b.ask("file_upload/complete", { object_key: "status/ROBOT-A/monitor/last_monitoring_status.json" }),
      400,
      "invalid_object_key",
    );
  });

  it("leaves session uploads as they were", async () => {
    const body = await a.ask("file_upload/request", { session_id: h.seed.openA, filename: "still-works.txt" });
    expect(body).toMatchObject({ success: true, object_key: `sessions/ROBOT-A/${h.seed.openA}/still-works.txt` });
    expectError(await a.ask("file_upload/request", { session_id: h.seed.closedA, filename: "x.txt" }), 409, "session_closed");
  });
});

describe("audit entries", () => {
  it("are written in the shape their action's schema reads back (what the dashboard parses)", async () => {
    const rows = await h.prisma.auditLog.findMany({ where: { actorType: "device" }, select: { action: true, details: true } });
    expect(new Set(rows.map((row) => row.action))).toEqual(new Set(["store.download", "store.upload", "device.status_report"]));
    for (const row of rows) expect(parseAuditEvent(row.action, row.details), `${row.action} ${JSON.stringify(row.details)}`).not.toBeNull();
    const reports = rows
      .filter((row) => row.action === "device.status_report")
      .map((row) => parseAuditEvent(row.action, row.details)?.details);
    expect(reports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: "monitor", report: expect.any(Object) }),
        expect.objectContaining({ service: "camera", error: expect.any(String) }),
      ]),
    );
  });
});

import { describe, expect, it } from "vitest";
import { ERROR_CATALOG } from "../errors";
import { validateMessage } from "./common";
import {
  commandsFilePath,
  serviceOfStatusPath,
  statusFilePath,
  ZCommandListSchema,
  ZDeviceCommandSchema,
  ZStatusReportSchema,
} from "./commands";
import { DOWNLOAD_REQUEST_FIELD_CODES, defaultStoreAccess, storeObjectPath, storePathProblem, ZDownloadRequestSchema } from "./stores";

describe("store paths", () => {
  it("accept relative paths with folders", () => {
    expect(storePathProblem("robot.yaml")).toBeNull();
    expect(storePathProblem("myapp/1.2.0/app.tar.gz")).toBeNull();
  });

  it("call escapes 403 material and malformed paths 400 material", () => {
    for (const path of ["/etc/passwd", "../ROBOT-B/robot.yaml", "a/../../b", "./x", "a\\b"])
      expect(storePathProblem(path)?.kind).toBe("escape");
    for (const path of ["", "a//b", "a/", "a\u0000b", "x".repeat(1025), `${"y".repeat(256)}/z`])
      expect(storePathProblem(path)?.kind).toBe("invalid");
  });

  it("resolve per-device stores under the device's folder and shared stores as given", () => {
    expect(storeObjectPath({ perDevice: true }, "ROBOT-A", "robot.yaml")).toBe("ROBOT-A/robot.yaml");
    expect(storeObjectPath({ perDevice: false }, "ROBOT-A", "app/1.0/app.tgz")).toBe("app/1.0/app.tgz");
    expect(() => storeObjectPath({ perDevice: true }, "ROBOT-A", "../ROBOT-B/robot.yaml")).toThrow();
  });

  it("let devices write status and read the rest by default", () => {
    expect(defaultStoreAccess("status")).toBe("write");
    expect(defaultStoreAccess("config")).toBe("read");
  });

  it("map a bad download request to the field's error code", () => {
    expect(() => validateMessage(ZDownloadRequestSchema, { store: "Config!", path: "a" }, DOWNLOAD_REQUEST_FIELD_CODES)).toThrow(
      ERROR_CATALOG.invalid_store.message,
    );
    expect(() => validateMessage(ZDownloadRequestSchema, { store: "config", path: 5 }, DOWNLOAD_REQUEST_FIELD_CODES)).toThrow(
      ERROR_CATALOG.invalid_path.message,
    );
    expect(
      validateMessage(ZDownloadRequestSchema, { store: "config", path: "a.yaml", extra: 1 }, DOWNLOAD_REQUEST_FIELD_CODES),
    ).toMatchObject({ store: "config", path: "a.yaml" });
  });
});

describe("command files", () => {
  it("name the command list and the report of a service", () => {
    expect(commandsFilePath("monitor")).toBe("monitor/commands.json");
    expect(statusFilePath("monitor")).toBe("monitor/last_monitoring_status.json");
    expect(serviceOfStatusPath("monitor/last_monitoring_status.json")).toBe("monitor");
    expect(serviceOfStatusPath("monitor/other.json")).toBeNull();
    expect(() => commandsFilePath("../x")).toThrow();
  });

  it("validate command lists and reports", () => {
    expect(ZCommandListSchema.parse([{ command: " uptime " }])).toEqual([{ command: "uptime" }]);
    expect(ZCommandListSchema.safeParse([]).success).toBe(false);
    expect(ZCommandListSchema.safeParse([{ cmd: "x" }]).success).toBe(false);
    expect(
      ZStatusReportSchema.safeParse({
        general_status: "ok",
        general_error: null,
        commands: [{ command: "uptime", result: "up 3 days", status: "success" }],
      }).success,
    ).toBe(true);
    expect(ZStatusReportSchema.safeParse({ commands: [] }).success).toBe(false);
  });

  it("tell capture and command notices apart", () => {
    expect(ZDeviceCommandSchema.parse({ type: "capture", request_id: "c-1", session_id: 4 }).type).toBe("capture");
    expect(
      ZDeviceCommandSchema.parse({
        type: "commands",
        request_id: "r",
        service: "monitor",
        store: "incoming",
        path: "monitor/commands.json",
      }).type,
    ).toBe("commands");
    expect(ZDeviceCommandSchema.safeParse({ type: "reboot" }).success).toBe(false);
  });
});

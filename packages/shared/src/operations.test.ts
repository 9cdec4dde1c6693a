import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, isProtocolError } from "./errors";
import {
  JSON_OPERATION_NAMES,
  jsonOperationOf,
  OPERATION_NAMES,
  OPERATIONS,
  parseOperationRequest,
  TRANSFER_OPERATIONS,
  uploadOperationOf,
  type TOperationSpec,
} from "./operations";
import { errorResponse, fileExistsError } from "./protocol/common";
import { createTopics, REQUEST_SUFFIXES, RESPONSE_SUFFIXES } from "./topics";

const topics = createTopics("fleetdrop");
const device = topics.device("ROBOT-1");

describe("the operation table", () => {
  it("holds every operation a device sends, each with its fixed or parameterised topic", () => {
    expect(OPERATION_NAMES).toEqual([
      "sessionOpen",
      "sessionClose",
      "uploadRequest",
      "storeUpload",
      "uploadComplete",
      "multipartCreate",
      "multipartParts",
      "multipartComplete",
      "multipartAbort",
      "downloadRequest",
      "transferInit",
      "transferSegment",
      "transferFin",
      "transferStatus",
      "transferAbort",
      "chunk",
      "agentStatus",
    ]);
    expect(JSON_OPERATION_NAMES).toEqual([
      "sessionOpen",
      "sessionClose",
      "uploadRequest",
      "storeUpload",
      "uploadComplete",
      "multipartCreate",
      "multipartParts",
      "multipartComplete",
      "multipartAbort",
      "downloadRequest",
      "agentStatus",
    ]);
  });

  it("builds each fixed topic that the worker's parser reads back, answered on the topic the worker answers on", () => {
    for (const name of JSON_OPERATION_NAMES) {
      const parsed = topics.parseRequest(device.request(name));
      expect(parsed?.deviceId).toBe("ROBOT-1");
      expect(REQUEST_SUFFIXES[parsed!.kind]).toBe(OPERATIONS[name].topic);
      expect(RESPONSE_SUFFIXES[parsed!.kind]).toBe(OPERATIONS[name].response);
      expect(device.response(name)).toBe(`fleetdrop/fleet/ROBOT-1/${OPERATIONS[name].response}`);
    }
  });

  it("names the operation of each file_transfer topic the builders make", () => {
    const built = {
      transferInit: device.fileTransfer.init("f1"),
      transferSegment: device.fileTransfer.segment("f1", 65536),
      transferFin: device.fileTransfer.fin("f1", 10, "a".repeat(64)),
      transferStatus: device.fileTransfer.status("f1"),
      transferAbort: device.fileTransfer.abort("f1"),
    };
    for (const [name, topic] of Object.entries(built)) {
      const parsed = topics.parseTransfer(topic);
      expect(parsed && parsed.command !== "invalid" ? TRANSFER_OPERATIONS[parsed.command] : null).toBe(name);
      expect(device.fileTransfer.response).toBe(`fleetdrop/fleet/ROBOT-1/${OPERATIONS[name as keyof typeof built].response}`);
    }
    expect(topics.parseChunk(device.chunks("crash"))).toEqual({ deviceId: "ROBOT-1", stream: "crash", valid: true });
    expect(device.chunksResponse).toBe(`fleetdrop/fleet/ROBOT-1/${OPERATIONS.chunk.response}`);
  });

  it("lists among each operation's codes those of its fields, and the codes every operation may answer", () => {
    for (const name of OPERATION_NAMES) {
      const { errors, fieldCodes } = OPERATIONS[name];
      for (const code of Object.values(fieldCodes)) expect(errors, `${name}: ${code}`).toContain(code);
      for (const code of ["device_unknown", "device_disabled", "rate_limited", "internal_error", "database_unavailable"] as const)
        expect(errors).toContain(code);
      for (const code of errors) expect(ERROR_CATALOG).toHaveProperty(code);
      expect(new Set(errors).size, `${name} lists a code twice`).toBe(errors.length);
    }
  });

  it("describes the error answers with extra fields of codes the operation may answer, and the worker's answer fits", () => {
    const withExtras = OPERATION_NAMES.filter((name) => "errorAnswers" in OPERATIONS[name]);
    expect(withExtras).toEqual(["uploadRequest", "multipartCreate", "transferInit", "transferFin"]);
    const existing = { size: 12, sha256: "a".repeat(64), uploaded_at: "2026-01-02T03:04:05.678Z" };
    for (const name of withExtras) {
      const spec: TOperationSpec = OPERATIONS[name];
      for (const code of Object.keys(spec.errorAnswers ?? {})) expect(spec.errors).toContain(code);
      const answer = errorResponse(fileExistsError(existing), "r1");
      expect(spec.errorAnswers!.file_exists!.parse(answer)).toMatchObject({ code: "file_exists", status: 409, existing });
      const unknown = errorResponse(fileExistsError({ size: null, sha256: null, uploaded_at: null }));
      expect(spec.errorAnswers!.file_exists!.safeParse(unknown).success).toBe(true);
      expect(spec.errorAnswers!.file_exists!.safeParse({ ...answer, existing: undefined }).success).toBe(false);
    }
  });

  it("acknowledges segments and chunks by PUBACK, everything else with an answer", () => {
    expect(OPERATION_NAMES.filter((name) => OPERATIONS[name].ack === "puback")).toEqual(["transferSegment", "chunk"]);
    expect(OPERATION_NAMES.every((name) => OPERATIONS[name].qos === 1)).toBe(true);
  });

  it("labels metrics by the kinds the worker has always used (a file_upload/request is one kind)", () => {
    expect(OPERATION_NAMES.map((name) => OPERATIONS[name].kind)).toEqual([
      "sessionOpen",
      "sessionClose",
      "uploadRequest",
      "uploadRequest",
      "uploadComplete",
      "multipartCreate",
      "multipartParts",
      "multipartComplete",
      "multipartAbort",
      "downloadRequest",
      "transfer_init",
      "transfer_segment",
      "transfer_fin",
      "transfer_status",
      "transfer_abort",
      "chunk",
      "agentStatus",
    ]);
  });
});

describe("choosing and validating a JSON operation", () => {
  it("tells session uploads from store uploads, and refuses a request that is both", () => {
    expect(uploadOperationOf({ session_id: 1, filename: "a" })).toBe("uploadRequest");
    expect(uploadOperationOf({ store: "status", filename: "a" })).toBe("storeUpload");
    expect(uploadOperationOf({ store: null, session_id: 1 })).toBe("uploadRequest");
    expect(uploadOperationOf({ filename: "a" })).toBe("uploadRequest");
    expect(() => uploadOperationOf({ store: "status", session_id: 1 })).toThrow(
      expect.objectContaining({ code: "invalid_payload", status: 400 }),
    );
    expect(jsonOperationOf("file_upload/request", { store: "s" })).toBe("storeUpload");
    expect(jsonOperationOf("session/close", {})).toBe("sessionClose");
    expect(jsonOperationOf("session/nothing", {})).toBeNull();
  });

  it("validates with the operation's schema and answers a bad field with the field's code", () => {
    expect(parseOperationRequest("sessionClose", { session_id: 4, extra: true })).toEqual({ session_id: 4 });
    const refusal = (() => {
      try {
        parseOperationRequest("downloadRequest", { store: "config", path: 7 });
      } catch (error) {
        return error;
      }
    })();
    expect(isProtocolError(refusal) && refusal.code).toBe("invalid_path");
  });

  it("takes an agent's status report and refuses counts, instants and errors it could not store", () => {
    expect(
      parseOperationRequest("agentStatus", { backlog_files: 2, backlog_bytes: 10, oldest_waiting_at: "2026-12-07T10:00:00.000Z" }),
    ).toMatchObject({ backlog_files: 2, backlog_bytes: 10, oldest_waiting_at: "2026-12-07T10:00:00.000Z" });
    const codeOf = (value: unknown) => {
      try {
        parseOperationRequest("agentStatus", value);
        return "accepted";
      } catch (error) {
        return isProtocolError(error) ? error.code : "thrown";
      }
    };
    expect(codeOf({ backlog_files: -1, backlog_bytes: 0 })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 1.5, backlog_bytes: 0 })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 2 ** 31, backlog_bytes: 0 })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 0 })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 0, backlog_bytes: 0, oldest_waiting_at: "2026-02-30T00:00:00.000Z" })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 0, backlog_bytes: 0, oldest_waiting_at: "yesterday" })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 0, backlog_bytes: 0, last_error: "x".repeat(1001) })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 0, backlog_bytes: 0, last_error: "" })).toBe("invalid_payload");
    expect(codeOf({ backlog_files: 0, backlog_bytes: 0, request_id: "r".repeat(65) })).toBe("invalid_request_id");
    expect(codeOf({ backlog_files: 0, backlog_bytes: 0, last_error: null, oldest_waiting_at: null })).toBe("accepted");
  });
});

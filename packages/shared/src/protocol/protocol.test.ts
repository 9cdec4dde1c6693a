import { describe, expect, it } from "vitest";
import { ProtocolError } from "../errors";
import {
  decodeJsonObject,
  errorResponse,
  MAX_PAYLOAD_BYTES,
  successEnvelope,
  usableRequestId,
  validateMessage,
  ZErrorResponseSchema,
  ZRateLimitedResponseSchema,
} from "./common";
import { MAX_SESSION_METADATA_BYTES, SESSION_OPEN_FIELD_CODES, ZSessionOpenSchema } from "./session";
import { normaliseUploadRequest, UPLOAD_REQUEST_FIELD_CODES, ZUploadRequestSchema } from "./upload";

const encode = (value: unknown) => new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

function uploadError(payload: unknown): ProtocolError {
  try {
    validateMessage(ZUploadRequestSchema, decodeJsonObject(encode(payload)), UPLOAD_REQUEST_FIELD_CODES);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error("expected a ProtocolError");
}

describe("payload decoding", () => {
  it("refuse what is not a JSON object", () => {
    for (const raw of ["not json", "[1,2]", "null", "42", '"s"', "{"]) {
      expect(() => decodeJsonObject(encode(raw))).toThrow(expect.objectContaining({ code: "invalid_json", status: 400 }));
    }
    expect(() => decodeJsonObject(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(expect.objectContaining({ code: "invalid_json" }));
  });

  it("refuse strings a database cannot store (NUL, unpaired surrogates), in values and keys, at any depth", () => {
    for (const raw of [
      String.raw`{"request_id":"a\u0000b"}`,
      String.raw`{"filename":"a\ud800"}`,
      String.raw`{"filename":"\udc00a"}`,
      String.raw`{"metadata":{"deep":["ok","\uDBFF"]}}`,
      String.raw`{"\u0000":1}`,
    ]) {
      expect(() => decodeJsonObject(encode(raw)), raw).toThrow(
        expect.objectContaining({ code: "invalid_json", message: expect.stringMatching(/NUL/) }),
      );
    }
    // Other escapes, and surrogate pairs spelled as escapes, are text like any other.
    expect(decodeJsonObject(encode(String.raw`{"name":"caf\u00e9 \ud83d\ude00","tab":"a\tb"}`))).toEqual({ name: "café 😀", tab: "a\tb" });
  });

  it("refuse payloads above 64 KiB before parsing them", () => {
    const big = encode({ filename: "x", pad: "a".repeat(MAX_PAYLOAD_BYTES) });
    expect(() => decodeJsonObject(big)).toThrow(expect.objectContaining({ code: "payload_too_large", status: 413 }));
  });
});

describe("upload request", () => {
  it("accept the spec's example and ignore unknown fields", () => {
    const value = validateMessage(
      ZUploadRequestSchema,
      { session_id: 123, filename: "image_001.jpg", content_type: "image/jpeg", size_mb: 5, future_field: { x: 1 } },
      UPLOAD_REQUEST_FIELD_CODES,
    );
    expect(value).toEqual({ session_id: 123, filename: "image_001.jpg", content_type: "image/jpeg", size_mb: 5 });
    expect(normaliseUploadRequest(value, 100)).toEqual({
      sessionId: 123,
      filename: "image_001.jpg",
      contentType: "image/jpeg",
      sizeMb: 5,
      requestId: undefined,
      overwrite: false,
      arrivedVia: "form",
    });
  });

  it("apply defaults: octet-stream, the largest size, no overwrite", () => {
    const value = validateMessage(ZUploadRequestSchema, { session_id: 1, filename: "a", content_type: null }, UPLOAD_REQUEST_FIELD_CODES);
    expect(normaliseUploadRequest(value, 100)).toMatchObject({ contentType: "application/octet-stream", sizeMb: 100, overwrite: false });
  });

  it.each([
    [{ filename: "a" }, "invalid_session_id"],
    [{ session_id: "123", filename: "a" }, "invalid_session_id"],
    [{ session_id: 0, filename: "a" }, "invalid_session_id"],
    [{ session_id: -1, filename: "a" }, "invalid_session_id"],
    [{ session_id: 1.5, filename: "a" }, "invalid_session_id"],
    [{ session_id: 1 }, "invalid_filename"],
    [{ session_id: 1, filename: 7 }, "invalid_filename"],
    [{ session_id: 1, filename: "../x" }, "invalid_filename"],
    [{ session_id: 1, filename: "a//b" }, "invalid_filename"],
    [{ session_id: 1, filename: "/abs" }, "invalid_filename"],
    [{ session_id: 1, filename: "a\\b" }, "invalid_filename"],
    [{ session_id: 1, filename: "a\u0001b" }, "invalid_filename"],
    [{ session_id: 1, filename: "x".repeat(256) }, "invalid_filename"],
    [{ session_id: 1, filename: "a", content_type: "jpeg" }, "invalid_content_type"],
    [{ session_id: 1, filename: "a", content_type: 5 }, "invalid_content_type"],
    [{ session_id: 1, filename: "a", size_mb: 0 }, "invalid_size"],
    [{ session_id: 1, filename: "a", size_mb: 2.5 }, "invalid_size"],
    [{ session_id: 1, filename: "a", size_mb: "5" }, "invalid_size"],
    [{ session_id: 1, filename: "a", request_id: 5 }, "invalid_request_id"],
    [{ session_id: 1, filename: "a", request_id: "r".repeat(65) }, "invalid_request_id"],
    [{ session_id: 1, filename: "a", overwrite: "yes" }, "invalid_overwrite"],
  ])("refuse %j with %s", (payload, code) => {
    const error = uploadError(payload);
    expect(error.code).toBe(code);
    expect(error.status).toBe(400);
    expect(error.message.length).toBeGreaterThan(5);
  });

  it("say what is wrong with a file name", () => {
    expect(uploadError({ session_id: 1, filename: "../x" }).message).toMatch(/\.\./);
    expect(uploadError({ session_id: 1, filename: "x".repeat(256) }).message).toMatch(/255 bytes/);
  });
});

describe("session open", () => {
  it("accept an empty request and refuse bad names and metadata", () => {
    expect(validateMessage(ZSessionOpenSchema, {}, SESSION_OPEN_FIELD_CODES)).toEqual({});
    expect(() => validateMessage(ZSessionOpenSchema, { name: "" }, SESSION_OPEN_FIELD_CODES)).toThrow(
      expect.objectContaining({ code: "invalid_name" }),
    );
    expect(() => validateMessage(ZSessionOpenSchema, { metadata: [1] }, SESSION_OPEN_FIELD_CODES)).toThrow(
      expect.objectContaining({ code: "invalid_metadata" }),
    );
  });

  it("cap metadata at 8 KiB of UTF-8 JSON with a 413 of its own", () => {
    const fits = { note: "é".repeat((MAX_SESSION_METADATA_BYTES - 20) / 2) };
    expect(validateMessage(ZSessionOpenSchema, { metadata: fits }, SESSION_OPEN_FIELD_CODES)).toEqual({ metadata: fits });
    const over = { note: "é".repeat(MAX_SESSION_METADATA_BYTES / 2) };
    expect(() => validateMessage(ZSessionOpenSchema, { metadata: over }, SESSION_OPEN_FIELD_CODES)).toThrow(
      expect.objectContaining({ code: "metadata_too_large", status: 413 }),
    );
  });
});

describe("responses", () => {
  it("a rate-limited answer carries retry_after in whole seconds", () => {
    const answer = errorResponse(new ProtocolError("rate_limited", undefined, { retry_after: 3 }), "r9");
    expect(ZRateLimitedResponseSchema.parse(answer)).toMatchObject({
      success: false,
      status: 429,
      code: "rate_limited",
      retry_after: 3,
      request_id: "r9",
    });
    expect(ZRateLimitedResponseSchema.safeParse({ ...answer, retry_after: undefined }).success).toBe(false);
  });

  it("carry success, status, an ISO timestamp with milliseconds and the request id", () => {
    const now = new Date("2025-01-12T10:30:00Z");
    expect(successEnvelope("r1", now)).toEqual({ success: true, status: 200, timestamp: "2025-01-12T10:30:00.000Z", request_id: "r1" });
    const error = errorResponse(new ProtocolError("session_not_owned"), undefined, now);
    expect(error).toEqual({
      success: false,
      status: 403,
      timestamp: "2025-01-12T10:30:00.000Z",
      error: "Invalid session or session does not belong to device",
      code: "session_not_owned",
    });
    expect(ZErrorResponseSchema.parse(error)).toEqual(error);
  });

  it("echo only usable request ids", () => {
    expect(usableRequestId({ request_id: "abc" })).toBe("abc");
    expect(usableRequestId({ request_id: "x".repeat(65) })).toBeUndefined();
    expect(usableRequestId({ request_id: 5 })).toBeUndefined();
    expect(usableRequestId(undefined)).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { ProtocolError } from "../errors";
import { errorResponse, validateMessage } from "./common";
import {
  coveredBytes,
  mergeRanges,
  missingRanges,
  normaliseTransferInit,
  segmentsOf,
  TRANSFER_INIT_FIELD_CODES,
  ZTransferInitSchema,
  ZTransferResponseSchema,
} from "./transfer";

const SHA = "a".repeat(64);

function initError(payload: unknown): ProtocolError {
  try {
    validateMessage(ZTransferInitSchema, payload, TRANSFER_INIT_FIELD_CODES);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error("expected a ProtocolError");
}

describe("transfer init", () => {
  it("accepts the spec's fields, ignores unknown ones and applies defaults", () => {
    const init = validateMessage(
      ZTransferInitSchema,
      { session_id: 7, name: "logs/a.bin", size: 10, checksum: SHA.toUpperCase(), user_data: { lap: 3 }, extra: true },
      TRANSFER_INIT_FIELD_CODES,
    );
    expect(normaliseTransferInit(init)).toEqual({
      sessionId: 7,
      name: "logs/a.bin",
      size: 10,
      contentType: "application/octet-stream",
      checksum: SHA,
      userData: { lap: 3 },
      overwrite: false,
    });
    expect(normaliseTransferInit(validateMessage(ZTransferInitSchema, { session_id: 1, name: "x", user_data: null }, {}))).toMatchObject({
      size: null,
      checksum: null,
      userData: null,
      overwrite: false,
    });
    expect(normaliseTransferInit(validateMessage(ZTransferInitSchema, { session_id: 1, name: "x", overwrite: true }, {}))).toMatchObject({
      overwrite: true,
    });
  });

  it.each([
    [{ name: "a" }, "invalid_session_id"],
    [{ session_id: 1 }, "invalid_filename"],
    [{ session_id: 1, name: "../a" }, "invalid_filename"],
    [{ session_id: 1, name: "a", size: -1 }, "invalid_file_size"],
    [{ session_id: 1, name: "a", size: 1.5 }, "invalid_file_size"],
    [{ session_id: 1, name: "a", size: "10" }, "invalid_file_size"],
    [{ session_id: 1, name: "a", checksum: "abc" }, "invalid_checksum"],
    [{ session_id: 1, name: "a", checksum: "g".repeat(64) }, "invalid_checksum"],
    [{ session_id: 1, name: "a", content_type: "nope" }, "invalid_content_type"],
    [{ session_id: 1, name: "a", overwrite: "yes" }, "invalid_overwrite"],
    [{ session_id: 1, name: "a", overwrite: 1 }, "invalid_overwrite"],
  ])("refuses %j with %s", (payload, code) => {
    const error = initError(payload);
    expect(error.code).toBe(code);
    expect(error.status).toBe(400);
  });
});

describe("byte ranges", () => {
  it("merge overlapping and touching ranges, drop empty ones", () => {
    expect(
      mergeRanges([
        [10, 20],
        [0, 5],
        [5, 8],
        [15, 30],
        [40, 40],
        [31, 32],
      ]),
    ).toEqual([
      [0, 8],
      [10, 30],
      [31, 32],
    ]);
    expect(mergeRanges([])).toEqual([]);
  });

  it("list what is missing of [0, size)", () => {
    expect(
      missingRanges(
        [
          [0, 5],
          [10, 20],
        ],
        25,
      ),
    ).toEqual([
      [5, 10],
      [20, 25],
    ]);
    expect(missingRanges([], 3)).toEqual([[0, 3]]);
    expect(missingRanges([[0, 3]], 3)).toEqual([]);
    expect(missingRanges([], 0)).toEqual([]);
    expect(missingRanges([[2, 100]], 10)).toEqual([[0, 2]]);
  });

  it("count covered bytes once", () => {
    expect(
      coveredBytes([
        [0, 10],
        [5, 15],
        [20, 21],
      ]),
    ).toBe(16);
  });

  it("split ranges into segments", () => {
    expect([
      ...segmentsOf(
        [
          [0, 10],
          [20, 23],
        ],
        4,
      ),
    ]).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
      [20, 3],
    ]);
    expect(() => [...segmentsOf([[0, 1]], 0)]).toThrow();
  });
});

describe("transfer response", () => {
  it("describes an incomplete fin", () => {
    const body = {
      success: false,
      status: 409,
      timestamp: "2025-01-12T10:30:00.000Z",
      file_id: "f1",
      command: "fin",
      code: "incomplete",
      error: "x",
      received: [[0, 5]],
      missing: [[5, 9]],
    };
    expect(ZTransferResponseSchema.parse(body)).toEqual(body);
  });
});

describe("error answers", () => {
  it("carry a ProtocolError's details without letting them override the envelope", () => {
    const body = errorResponse(new ProtocolError("incomplete", undefined, { missing: [[5, 9]], status: 200, code: "x" }), "r1");
    expect(body).toMatchObject({ success: false, status: 409, code: "incomplete", request_id: "r1", missing: [[5, 9]] });
  });
});

import { describe, expect, it } from "vitest";

import { checksumFields, expectedPostSha256, sha256Base64ToHex } from "./post-checksum";

const HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const BASE64 = Buffer.from(HEX, "hex").toString("base64");

describe("post checksum fields", () => {
  it("round-trips a digest through the form's base64", () => {
    expect(checksumFields(HEX)).toEqual({ "x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": BASE64 });
    expect(sha256Base64ToHex(BASE64)).toBe(HEX);
    for (const bad of ["", "abc=", `${BASE64}-2`, BASE64.slice(0, -1), Buffer.alloc(20).toString("base64")]) {
      expect(sha256Base64ToHex(bad), bad).toBeNull();
    }
  });

  it("reads the digest a form binds, and refuses checksum fields the store cannot honour (400 InvalidRequest)", () => {
    const fields = (entries: Record<string, string>) => new Map(Object.entries(entries));
    expect(expectedPostSha256(fields({ key: "k" }))).toBeNull();
    expect(expectedPostSha256(fields({ "x-amz-checksum-sha256": BASE64 }))).toBe(HEX);
    expect(expectedPostSha256(fields({ "x-amz-checksum-algorithm": "sha256", "x-amz-checksum-sha256": BASE64 }))).toBe(HEX);
    const refused: Record<string, string>[] = [
      { "x-amz-checksum-algorithm": "SHA256" },
      { "x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-sha256": BASE64 },
      { "x-amz-checksum-crc32": "AAAAAA==" },
      { "x-amz-checksum-sha256": "not base64" },
    ];
    for (const entries of refused) {
      expect(() => expectedPostSha256(fields(entries)), JSON.stringify(entries)).toThrow(
        expect.objectContaining({ status: 400, code: "InvalidRequest" }),
      );
    }
  });
});

import { describe, expect, it } from "vitest";
import { mosquittoPasswordHash, verifyMosquittoPassword } from "./mosquitto-password";

describe("mosquitto password hashes", () => {
  it("writes $7$ PBKDF2-SHA512 hashes that verify only the right password", () => {
    const hash = mosquittoPasswordHash("s3cret");
    expect(hash).toMatch(/^\$7\$1000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(verifyMosquittoPassword("s3cret", hash)).toBe(true);
    expect(verifyMosquittoPassword("s3cret ", hash)).toBe(false);
    expect(mosquittoPasswordHash("s3cret")).not.toBe(hash); // salted
  });

  it("treats malformed or missing hashes as a mismatch", () => {
    expect(verifyMosquittoPassword("x", null)).toBe(false);
    expect(verifyMosquittoPassword("x", "$6$abc$def")).toBe(false);
    expect(verifyMosquittoPassword("x", "")).toBe(false);
  });
});

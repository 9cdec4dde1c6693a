import { describe, expect, it } from "vitest";
import { fieldErrors, ZDeviceCreateSchema, ZMemberInviteSchema, ZPasswordChangeSchema, ZProjectCreateSchema } from "./forms";

describe("dashboard form schemas", () => {
  it("accepts a device with a protocol-valid serial and trims it", () => {
    expect(ZDeviceCreateSchema.parse({ serial: " ROBOT-1 ", name: "Arm" })).toEqual({ serial: "ROBOT-1", name: "Arm" });
  });

  it("refuses serials the device protocol refuses, with a field error", () => {
    for (const serial of ["", "has space", "a/b", "-lead", "x".repeat(65)]) {
      const result = ZDeviceCreateSchema.safeParse({ serial, name: "n" });
      expect(result.success, serial).toBe(false);
      if (!result.success) expect(fieldErrors(result.error).serial).toBeTruthy();
    }
  });

  it("lower-cases invite e-mails and rejects unknown roles", () => {
    expect(ZMemberInviteSchema.parse({ email: "A@Example.COM", role: "viewer" }).email).toBe("a@example.com");
    const bad = ZMemberInviteSchema.safeParse({ email: "nope", role: "god" });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(Object.keys(fieldErrors(bad.error)).sort()).toEqual(["email", "role"]);
  });

  it("checks the new password twice and its length", () => {
    const mismatch = ZPasswordChangeSchema.safeParse({
      currentPassword: "old",
      newPassword: "a-long-password-1",
      confirmPassword: "a-long-password-2",
    });
    expect(mismatch.success).toBe(false);
    if (!mismatch.success) expect(fieldErrors(mismatch.error).confirmPassword).toMatch(/differ/);
    const short = ZPasswordChangeSchema.safeParse({ currentPassword: "old", newPassword: "short", confirmPassword: "short" });
    expect(short.success).toBe(false);
    if (!short.success) expect(fieldErrors(short.error).newPassword).toMatch(/12/);
  });

  it("accepts slugs like 'warehouse-bots' only", () => {
    expect(ZProjectCreateSchema.safeParse({ slug: "warehouse-bots", name: "W" }).success).toBe(true);
    expect(ZProjectCreateSchema.safeParse({ slug: "-bad", name: "W" }).success).toBe(false);
    expect(ZProjectCreateSchema.safeParse({ slug: "Has Space", name: "W" }).success).toBe(false);
  });
});

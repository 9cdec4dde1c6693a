import { describe, expect, it } from "vitest";
import { signInWithPassword } from "@/server/auth/sign-in-with-password";
import { loadActiveUser } from "@/server/auth/session-user";
import { makeUser, prisma } from "./fixtures";

const PASSWORD = "a-good-long-password";

describe("password sign-in", () => {
  it("accepts the right password, e-mail case-insensitively", async () => {
    const user = await makeUser({ password: PASSWORD });
    const result = await signInWithPassword({ email: user.email.toUpperCase(), password: PASSWORD, ip: "10.0.0.1" });
    expect(result).toEqual({ ok: true, user: { id: user.id, email: user.email, name: user.name, isAdmin: false } });
  });

  it("answers the same for a wrong password, an unknown e-mail and a disabled account", async () => {
    const user = await makeUser({ password: PASSWORD });
    const disabled = await makeUser({ password: PASSWORD });
    await prisma().user.update({ where: { id: disabled.id }, data: { disabled: true } });
    expect(await signInWithPassword({ email: user.email, password: "wrong", ip: null })).toEqual({ ok: false, reason: "invalid" });
    expect(await signInWithPassword({ email: "nobody@example.test", password: PASSWORD, ip: null })).toEqual({ ok: false, reason: "invalid" });
    expect(await signInWithPassword({ email: disabled.email, password: PASSWORD, ip: null })).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses even the right password after 5 failures for the e-mail, until the window passes", async () => {
    const user = await makeUser({ password: PASSWORD });
    const now = new Date();
    for (let i = 0; i < 5; i++) {
      expect(await signInWithPassword({ email: user.email, password: `guess-${i}`, ip: `10.1.0.${i}`, now })).toMatchObject({ reason: "invalid" });
    }
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.9.9.9", now })).toEqual({ ok: false, reason: "rate_limited" });
    // 16 minutes later the failures no longer count.
    const later = new Date(now.getTime() + 16 * 60_000);
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.9.9.9", now: later })).toMatchObject({ ok: true });
  });

  it("limits one address trying many accounts", async () => {
    const now = new Date();
    for (let i = 0; i < 30; i++) await prisma().signInFailure.create({ data: { email: `spray-${i}@example.test`, ip: "10.66.0.1", at: now } });
    const user = await makeUser({ password: PASSWORD });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.66.0.1", now })).toEqual({ ok: false, reason: "rate_limited" });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.66.0.2", now })).toMatchObject({ ok: true });
  });

  it("ends sign-ins older than a password change, and those of disabled accounts", async () => {
    const user = await makeUser({ password: PASSWORD });
    const signedInAt = Date.now() - 60_000;
    expect(await loadActiveUser(user.id, signedInAt)).toMatchObject({ id: user.id });
    await prisma().user.update({ where: { id: user.id }, data: { passwordChangedAt: new Date() } });
    expect(await loadActiveUser(user.id, signedInAt)).toBeNull();
    expect(await loadActiveUser(user.id, Date.now() + 1000)).toMatchObject({ id: user.id });
    await prisma().user.update({ where: { id: user.id }, data: { disabled: true } });
    expect(await loadActiveUser(user.id, Date.now() + 1000)).toBeNull();
    expect(await loadActiveUser("not-a-uuid", Date.now())).toBeNull();
  });
});

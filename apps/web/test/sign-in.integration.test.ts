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
    expect(await signInWithPassword({ email: "nobody@example.test", password: PASSWORD, ip: null })).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(await signInWithPassword({ email: disabled.email, password: PASSWORD, ip: null })).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses even the right password from an address after 5 failures there, until the window passes", async () => {
    const user = await makeUser({ password: PASSWORD });
    const now = new Date();
    for (let i = 0; i < 5; i++) {
      expect(await signInWithPassword({ email: user.email, password: `guess-${i}`, ip: "10.1.0.1", now })).toMatchObject({
        reason: "invalid",
      });
    }
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.1.0.1", now })).toEqual({
      ok: false,
      reason: "rate_limited",
    });
    // 16 minutes later the failures no longer count.
    const later = new Date(now.getTime() + 16 * 60_000);
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.1.0.1", now: later })).toMatchObject({ ok: true });
  });

  it("checks at most the limit of 40 guesses sent at once", async () => {
    const user = await makeUser({ password: PASSWORD });
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signInWithPassword({ email: user.email, password: `burst-${i}`, ip: "10.3.0.1", now })),
    );
    // `invalid` means the password was checked; `rate_limited` means it was not.
    expect(results.filter((r) => !r.ok && r.reason === "invalid")).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.reason === "rate_limited")).toHaveLength(35);
  });

  it("lets the owner in from their own address while another address is locked out of the account", async () => {
    const user = await makeUser({ password: PASSWORD });
    const now = new Date();
    for (let i = 0; i < 10; i++) await signInWithPassword({ email: user.email, password: `attack-${i}`, ip: "10.2.0.66", now });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.2.0.66", now })).toEqual({
      ok: false,
      reason: "rate_limited",
    });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.2.0.7", now })).toMatchObject({ ok: true });
  });

  it("slows a guesser spread over many addresses, but not the owner at an address they signed in from", async () => {
    const user = await makeUser({ password: PASSWORD });
    const now = new Date();
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.4.0.1", now })).toMatchObject({ ok: true });
    // As if 100 addresses had each tried the account in this window.
    const key = `account:${user.email}`;
    await prisma().signInThrottle.upsert({
      where: { key },
      create: { key, windowStart: now, attempts: 100 },
      update: { windowStart: now, attempts: 100 },
    });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.4.0.99", now })).toEqual({
      ok: false,
      reason: "rate_limited",
    });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.4.0.1", now })).toMatchObject({ ok: true });
  });

  it("limits one address trying many accounts", async () => {
    const now = new Date();
    await prisma().signInThrottle.create({ data: { key: "address:10.66.0.1", windowStart: now, attempts: 30 } });
    const user = await makeUser({ password: PASSWORD });
    expect(await signInWithPassword({ email: user.email, password: PASSWORD, ip: "10.66.0.1", now })).toEqual({
      ok: false,
      reason: "rate_limited",
    });
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

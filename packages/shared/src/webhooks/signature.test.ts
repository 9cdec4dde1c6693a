import { describe, expect, it } from "vitest";
import { isPublicAddress, privateHostReason } from "./address";
import { generateWebhookSecret, signPayload, verifySignature } from "./signature";

describe("webhook signatures", () => {
  const secret = generateWebhookSecret();
  const body = JSON.stringify({ id: "e1", type: "file.uploaded" });

  it("verify with the secret, the raw body and a fresh timestamp", () => {
    const t = 1_800_000_000;
    const header = signPayload(secret, body, t);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, body, header, { now: t + 10 })).toEqual({ ok: true, timestamp: t });
  });

  it("refuse another secret, a changed body, a moved timestamp, an old one and garbage", () => {
    const t = 1_800_000_000;
    const header = signPayload(secret, body, t);
    expect(verifySignature(generateWebhookSecret(), body, header, { now: t })).toEqual({ ok: false, reason: "mismatch" });
    expect(verifySignature(secret, `${body} `, header, { now: t })).toEqual({ ok: false, reason: "mismatch" });
    expect(verifySignature(secret, body, header.replace("t=1800000000", "t=1800000001"), { now: t })).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(verifySignature(secret, body, header, { now: t + 301 })).toEqual({ ok: false, reason: "too_old" });
    expect(verifySignature(secret, body, "v1=abc", { now: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifySignature(secret, body, undefined)).toEqual({ ok: false, reason: "malformed" });
  });

  it("make secrets that differ and carry 256 bits", () => {
    const other = generateWebhookSecret();
    expect(other).not.toBe(secret);
    expect(Buffer.from(secret.slice("whsec_".length), "base64url")).toHaveLength(32);
  });
});

describe("webhook addresses", () => {
  it("tell public addresses from private, loopback, link-local and mapped ones", () => {
    for (const address of ["8.8.8.8", "1.1.1.1", "2606:4700::1111"]) expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "0.0.0.0",
      "100.64.0.1",
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    expect(isPublicAddress("example.com")).toBe(false);
  });

  it("flag URLs whose host is local without resolving it", () => {
    expect(privateHostReason(new URL("https://hooks.example.com/x"))).toBeNull();
    expect(privateHostReason(new URL("http://127.0.0.1:8080/"))).toMatch(/loopback/);
    expect(privateHostReason(new URL("http://[::1]/"))).toMatch(/loopback/);
    expect(privateHostReason(new URL("http://localhost/"))).toMatch(/this machine/);
    expect(privateHostReason(new URL("http://db/"))).toMatch(/local network/);
    expect(privateHostReason(new URL("http://169.254.169.254/latest/meta-data"))).toMatch(/private/);
  });
});

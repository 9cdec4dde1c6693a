import { describe, expect, it } from "vitest";
import { createSecretBox, generateEncryptionKey, keyIdOf, parseEncryptionKey, SecretBoxError } from "./secret-box";

const key = () => parseEncryptionKey(generateEncryptionKey());

describe("secret box", () => {
  it("opens what it sealed, and only with the same associated data", () => {
    const box = createSecretBox(key());
    const sealed = box.seal(Buffer.from("ca private key"), "fleetdrop-device-ca:abc");
    expect(sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(sealed).not.toContain("ca private key");
    expect(box.open(sealed, "fleetdrop-device-ca:abc").toString()).toBe("ca private key");
    expect(() => box.open(sealed, "fleetdrop-device-ca:other")).toThrow(/altered or belongs to another record/);
  });

  it("refuses a tampered value", () => {
    const box = createSecretBox(key());
    const parts = box.seal(Buffer.from("secret"), "ad").split(".");
    const body = Buffer.from(parts[3]!, "base64url");
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString("base64url");
    expect(() => box.open(parts.join("."), "ad")).toThrow(SecretBoxError);
    expect(() => box.open("garbage", "ad")).toThrow(/not a sealed value/);
  });

  it("names the key a value was sealed with when another key is configured, and opens it with a previous key", () => {
    const oldKey = key();
    const newKey = key();
    const sealed = createSecretBox(oldKey).seal(Buffer.from("x"), "ad");
    expect(() => createSecretBox(newKey).open(sealed, "ad")).toThrow(new RegExp(`sealed with key ${keyIdOf(oldKey)}`));
    const rotated = createSecretBox(newKey, [oldKey]);
    expect(rotated.open(sealed, "ad").toString()).toBe("x");
    expect(rotated.isCurrent(sealed)).toBe(false);
    expect(rotated.isCurrent(rotated.seal(Buffer.from("x"), "ad"))).toBe(true);
  });

  it("accepts 32-byte keys as base64 or hex and explains anything else", () => {
    const raw = Buffer.alloc(32, 7);
    expect(parseEncryptionKey(raw.toString("base64")).equals(raw)).toBe(true);
    expect(parseEncryptionKey(raw.toString("hex")).equals(raw)).toBe(true);
    expect(() => parseEncryptionKey("too-short")).toThrow(/32 random bytes.*openssl rand -base64 32/);
  });
});

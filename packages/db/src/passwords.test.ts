import { describe, expect, it } from "vitest";
import { generatePassword, hashPassword, verifyPassword } from "./passwords";

describe("passwords", () => {
  it("verify the password they were made from and nothing else", async () => {
    const hash = await hashPassword("correct horse battery staple");
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery staple", hash)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", hash)).toBe(false);
    expect(await verifyPassword("", hash)).toBe(false);
  });

  it("salt every hash", async () => {
    expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
  });

  it("refuse malformed or absent hashes instead of throwing", async () => {
    for (const stored of [null, undefined, "", "plain", "scrypt$15$8$1$abc", "scrypt$40$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=="]) {
      expect(await verifyPassword("x", stored)).toBe(false);
    }
  });

  it("generate distinct, copyable passwords", () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

import { describe, expect, it } from "vitest";
import { parseWebEnv } from "./env";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/x",
  NEXTAUTH_SECRET: "0123456789abcdef0123",
  WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
  FS_SECRET_ACCESS_KEY: "fs-secret-0123456789",
};

describe("web env", () => {
  it("accepts a minimal environment and fills the defaults shared with the worker", () => {
    const env = parseWebEnv(base);
    expect(env).toMatchObject({
      STORAGE_BACKEND: "fs",
      FS_BUCKET: "fleetdrop",
      FS_PUBLIC_URL: "http://localhost:9000",
      TOPIC_PREFIX: "fleetdrop",
      SIGN_IN_MAX_FAILURES: 5,
    });
  });

  it("lists every problem at once", () => {
    expect(() => parseWebEnv({ DATABASE_URL: "mysql://x", NEXTAUTH_SECRET: "short", STORAGE_BACKEND: "s3" })).toThrow(
      /DATABASE_URL: DATABASE_URL must be a postgresql:\/\/ URL[\s\S]*NEXTAUTH_SECRET[\s\S]*S3_BUCKET/,
    );
  });

  it("needs WEBHOOK_SECRET_KEY (32 bytes) to run, not to build", () => {
    const { WEBHOOK_SECRET_KEY: _unset, ...without } = base;
    expect(() => parseWebEnv(without)).toThrow(/WEBHOOK_SECRET_KEY: set WEBHOOK_SECRET_KEY \(32 random bytes/);
    expect(() => parseWebEnv(without, { forBuild: true })).not.toThrow();
    expect(() => parseWebEnv({ ...base, WEBHOOK_SECRET_KEY: "not-a-key" })).toThrow(/WEBHOOK_SECRET_KEY must be 32 random bytes/);
  });

  it("wants OIDC issuer, client id and secret together", () => {
    expect(() => parseWebEnv({ ...base, OIDC_ISSUER: "https://login.example.com" })).toThrow(
      /OIDC_ISSUER: set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together/,
    );
    expect(
      parseWebEnv({ ...base, OIDC_ISSUER: "https://login.example.com", OIDC_CLIENT_ID: "id", OIDC_CLIENT_SECRET: "s" }).OIDC_ISSUER,
    ).toBe("https://login.example.com");
  });

  it("lets a build run without the server's secrets, but not with a wrong value", () => {
    expect(() => parseWebEnv({}, { forBuild: true })).not.toThrow();
    expect(() => parseWebEnv({})).toThrow(/DATABASE_URL/);
    expect(() => parseWebEnv({ DATABASE_URL: "nope" }, { forBuild: true })).toThrow(/DATABASE_URL/);
    expect(() => parseWebEnv({ STORAGE_BACKEND: "ftp" }, { forBuild: true })).toThrow(/STORAGE_BACKEND/);
  });
});

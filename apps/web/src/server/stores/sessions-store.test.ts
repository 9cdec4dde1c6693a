import { describe, expect, it } from "vitest";
import { parseWebEnv } from "@/env";
import { sessionStoreConfig } from "./sessions-store";
import { createStore } from "@fleetdrop/storage/config";

const base = {
  DATABASE_URL: "postgresql://x@127.0.0.1/x",
  NEXTAUTH_SECRET: "0123456789abcdef0123",
  WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
};

describe("sessions store config", () => {
  it("builds an fs store from the worker's variables", () => {
    const config = sessionStoreConfig(
      parseWebEnv({ ...base, FS_STORE_DIR: "/var/lib/fleetdrop", FS_SECRET_ACCESS_KEY: "fs-secret-0123456789" }),
    );
    expect(config).toMatchObject({ backend: "fs", bucket: "fleetdrop", rootDir: "/var/lib/fleetdrop", publicUrl: "http://localhost:9000" });
    expect(createStore(config).backend).toBe("fs");
  });

  it("builds an s3 store whose downloads are presigned GETs with the file name", async () => {
    const env = parseWebEnv({
      ...base,
      STORAGE_BACKEND: "s3",
      S3_BUCKET: "robot-files",
      S3_REGION: "eu-west-1",
      S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
      S3_SECRET_ACCESS_KEY: "secret",
    });
    const store = createStore(sessionStoreConfig(env));
    expect(store.backend).toBe("s3");
    const url = new URL(
      await store.presignGet({ key: "sessions/R1/1/a b.txt", expiresIn: 60, downloadName: "a b.txt", disposition: "attachment" }),
    );
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
    expect(url.searchParams.get("response-content-disposition")).toContain("attachment");
  });
});

import { describe, expect, it } from "vitest";
import { parseWebEnv } from "@/env";
import { namedStoresFromEnv } from "./named-stores";

const base = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/x",
  NEXTAUTH_SECRET: "0123456789abcdef0123",
  WEBHOOK_SECRET_KEY: "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM=",
  FS_SECRET_ACCESS_KEY: "fs-secret-0123456789",
  FS_STORE_DIR: "/var/lib/fleetdrop/storage",
};

describe("STORE_CONFIGURATION in the web app", () => {
  it("refuses a bad value when the app starts, one line per mistake", () => {
    expect(() =>
      parseWebEnv({ ...base, STORE_CONFIGURATION: '[{"store_name": "Config"}, {"store_name": "apps", "buckett": "x"}]' }),
    ).toThrow(
      new RegExp(
        /STORE_CONFIGURATION: \[0\] \(Config\) store_name: store_name must be[\s\S]*/.source +
          /STORE_CONFIGURATION: \[1\] \(apps\): unknown setting\(s\): buckett/.source,
      ),
    );
    expect(() => parseWebEnv({ ...base, STORE_CONFIGURATION: "not json" })).toThrow(/STORE_CONFIGURATION: not valid JSON/);
  });

  it("builds the same stores as the worker from the same variables", () => {
    const stores = namedStoresFromEnv(
      parseWebEnv({
        ...base,
        FS_PUBLIC_URL: "http://10.0.0.5:9000",
        STORE_CONFIGURATION: '[{"store_name": "config", "prefix": "cfg"}, {"store_name": "status"}]',
      }),
    );
    expect([...stores.keys()]).toEqual(["config", "status"]);
    expect(stores.get("config")).toMatchObject({
      perDevice: true,
      deviceAccess: "read",
      store: { backend: "fs", bucket: "fleetdrop", prefix: "cfg/" },
    });
    expect(stores.get("status")).toMatchObject({ deviceAccess: "write", store: { prefix: "status/" } });
  });
});

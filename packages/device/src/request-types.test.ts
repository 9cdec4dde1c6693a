/** `FleetdropDevice.request` is typed by the operation table: payloads and answers are checked at compile time. */
import { describe, expect, it } from "vitest";
import type { FleetdropDevice } from "./client";

/** Never called: compiling it is the test (the package's typecheck runs over its tests). */
async function typedRequests(device: FleetdropDevice) {
  const opened = await device.request("sessionOpen", { name: "mission 12" });
  const sessionId: number = opened.session_id;
  const form = await device.request("storeUpload", { store: "status", filename: "m/report.json" });
  const path: string = form.path;
  // @ts-expect-error session_id is a number
  await device.request("sessionClose", { session_id: "7" });
  // @ts-expect-error segments and chunks are no JSON requests
  await device.request("transferSegment", {});
  // @ts-expect-error a download answer has no file_id
  const fileId: string = (await device.request("downloadRequest", { store: "config", path: "a" })).file_id;
  return [sessionId, path, fileId];
}

describe("FleetdropDevice.request", () => {
  it("is typed by the operation table", () => {
    expect(typedRequests).toBeTypeOf("function");
  });
});

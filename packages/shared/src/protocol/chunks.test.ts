import { describe, expect, it } from "vitest";
import { isValidStreamName, renderChunkTemplate, ZChunkStreamConfigSchema } from "./chunks";

describe("stream names", () => {
  it("allow the topic-level alphabet and reserve response", () => {
    expect(isValidStreamName("crash-dumps_2")).toBe(true);
    for (const bad of ["", "a/b", "a+b", "x".repeat(65), "response", 5]) expect(isValidStreamName(bad)).toBe(false);
  });
});

describe("templates", () => {
  it("percent-encode values in URLs and insert them as they are in headers", () => {
    const values = { device_id: "ROBOT.7 x", stream: "crash" };
    expect(renderChunkTemplate("https://h/api/{device_id}/{stream}?q={unknown}", values, "url")).toBe(
      "https://h/api/ROBOT.7%20x/crash?q={unknown}",
    );
    expect(renderChunkTemplate("Device {device_id}", values, "header")).toBe("Device ROBOT.7 x");
  });
});

describe("stream configuration", () => {
  it("applies defaults", () => {
    expect(ZChunkStreamConfigSchema.parse({ name: "crash", url_template: "https://crash.example.com/api/{device_id}/chunks" })).toEqual({
      name: "crash",
      url_template: "https://crash.example.com/api/{device_id}/chunks",
      headers: {},
      enabled: true,
      max_attempts: 10,
      timeout_ms: 10_000,
    });
  });

  it.each([
    [{ name: "response", url_template: "https://h/" }, "name"],
    [{ name: "s", url_template: "ftp://h/" }, "url_template"],
    [{ name: "s", url_template: "not a url" }, "url_template"],
    [{ name: "s", url_template: "https://h/{serial}" }, "url_template"],
    [{ name: "s", url_template: "https://h/", headers: { "Content-Length": "1" } }, "headers"],
    [{ name: "s", url_template: "https://h/", headers: { "X-A": "a\r\nb" } }, "headers"],
    [{ name: "s", url_template: "https://h/", headers: { "bad name": "a" } }, "headers"],
  ])("refuses %j at %s", (value, path) => {
    const result = ZChunkStreamConfigSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(path);
  });
});

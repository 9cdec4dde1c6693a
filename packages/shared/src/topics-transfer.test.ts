import { describe, expect, it } from "vitest";
import { createTopics } from "./topics";

const topics = createTopics("fleetdrop");
const SHA = "ab".repeat(32);

describe("file_transfer topics", () => {
  it("build every topic of a transfer under the device", () => {
    const t = topics.device("R1").fileTransfer;
    expect(t.init("f1")).toBe("fleetdrop/fleet/R1/file_transfer/f1/init");
    expect(t.segment("f1", 65536)).toBe("fleetdrop/fleet/R1/file_transfer/f1/65536");
    expect(t.fin("f1", 10)).toBe("fleetdrop/fleet/R1/file_transfer/f1/fin/10");
    expect(t.fin("f1", 10, SHA.toUpperCase())).toBe(`fleetdrop/fleet/R1/file_transfer/f1/fin/10/${SHA}`);
    expect(t.status("f1")).toBe("fleetdrop/fleet/R1/file_transfer/f1/status");
    expect(t.abort("f1")).toBe("fleetdrop/fleet/R1/file_transfer/f1/abort");
    expect(t.response).toBe("fleetdrop/fleet/R1/file_transfer/response");
    expect(() => t.init("a/b")).toThrow();
    expect(() => t.segment("f1", -1)).toThrow();
    expect(() => t.fin("f1", 1, "xyz")).toThrow();
  });

  it("subscribe to every device's transfers, plainly or shared", () => {
    expect(topics.transferFilter()).toBe("fleetdrop/fleet/+/file_transfer/#");
    expect(topics.transferFilter("ingest")).toBe("$share/ingest/fleetdrop/fleet/+/file_transfer/#");
  });

  it("parse commands, segments and fin", () => {
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/init")).toEqual({ deviceId: "R1", fileId: "f1", command: "init" });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/status")).toEqual({ deviceId: "R1", fileId: "f1", command: "status" });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/abort")).toEqual({ deviceId: "R1", fileId: "f1", command: "abort" });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/0")).toEqual({
      deviceId: "R1",
      fileId: "f1",
      command: "segment",
      offset: 0,
    });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/1048576")).toEqual({
      deviceId: "R1",
      fileId: "f1",
      command: "segment",
      offset: 1048576,
    });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/fin/12")).toEqual({
      deviceId: "R1",
      fileId: "f1",
      command: "fin",
      size: 12,
    });
    expect(topics.parseTransfer(`fleetdrop/fleet/R1/file_transfer/f1/fin/12/${SHA.toUpperCase()}`)).toEqual({
      deviceId: "R1",
      fileId: "f1",
      command: "fin",
      size: 12,
      sha256: SHA,
    });
  });

  it("ignore the response topic and foreign topics", () => {
    for (const topic of [
      "fleetdrop/fleet/R1/file_transfer/response",
      "fleetdrop/fleet/R1/file_upload/request",
      "other/fleet/R1/file_transfer/f/init",
      "fleetdrop/fleet/-x/file_transfer/f/init",
    ]) {
      expect(topics.parseTransfer(topic)).toBeNull();
    }
  });

  it("flag malformed transfer topics with the code to answer", () => {
    const code = (topic: string) => {
      const parsed = topics.parseTransfer(`fleetdrop/fleet/R1/file_transfer/${topic}`);
      return parsed?.command === "invalid" ? parsed.code : parsed?.command;
    };
    expect(code("bad id/init")).toBe("invalid_file_id");
    expect(code(`${"x".repeat(65)}/init`)).toBe("invalid_file_id");
    expect(code("f1/-5")).toBe("invalid_offset");
    expect(code("f1/12a")).toBe("invalid_offset");
    expect(code("f1/99999999999999999")).toBe("invalid_offset");
    expect(code("f1/fin")).toBe("invalid_file_size");
    expect(code("f1/fin/x")).toBe("invalid_file_size");
    expect(code("f1/fin/1/nothex")).toBe("invalid_checksum");
    expect(code("f1/init/extra")).toBe("invalid_payload");
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/fin/x")).toMatchObject({ command: "invalid", attempted: "fin" });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/f1/-5")).toMatchObject({ command: "invalid", attempted: "segment" });
    expect(topics.parseTransfer("fleetdrop/fleet/R1/file_transfer/b%20d/status")).toMatchObject({
      command: "invalid",
      code: "invalid_file_id",
      attempted: "status",
    });
  });
});

describe("chunk topics", () => {
  it("build, filter and parse", () => {
    expect(topics.device("R1").chunks("crash")).toBe("fleetdrop/fleet/R1/chunks/crash");
    expect(topics.device("R1").chunksResponse).toBe("fleetdrop/fleet/R1/chunks/response");
    expect(() => topics.device("R1").chunks("response")).toThrow();
    expect(topics.chunksFilter()).toBe("fleetdrop/fleet/+/chunks/+");
    expect(topics.chunksFilter("g")).toBe("$share/g/fleetdrop/fleet/+/chunks/+");
    expect(topics.parseChunk("fleetdrop/fleet/R1/chunks/crash")).toEqual({ deviceId: "R1", stream: "crash", valid: true });
    expect(topics.parseChunk("fleetdrop/fleet/R1/chunks/bad.name")).toEqual({ deviceId: "R1", stream: "bad.name", valid: false });
    expect(topics.parseChunk("fleetdrop/fleet/R1/chunks/response")).toBeNull();
    expect(topics.parseChunk("fleetdrop/fleet/R1/chunks/a/b")).toBeNull();
  });
});

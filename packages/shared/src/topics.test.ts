import { describe, expect, it } from "vitest";
import { createTopics } from "./topics";

describe("topics", () => {
  const topics = createTopics("fleetdrop");

  it("build every topic of a device under P/fleet/D/", () => {
    const device = topics.device("ROBOT-ABC123");
    expect(device.uploadRequest).toBe("fleetdrop/fleet/ROBOT-ABC123/file_upload/request");
    expect(device.uploadResponse).toBe("fleetdrop/fleet/ROBOT-ABC123/file_upload/response");
    expect(device.uploadComplete).toBe("fleetdrop/fleet/ROBOT-ABC123/file_upload/complete");
    expect(device.sessionOpen).toBe("fleetdrop/fleet/ROBOT-ABC123/session/open");
    expect(device.sessionClose).toBe("fleetdrop/fleet/ROBOT-ABC123/session/close");
    expect(device.sessionResponse).toBe("fleetdrop/fleet/ROBOT-ABC123/session/response");
    expect(device.all).toBe("fleetdrop/fleet/ROBOT-ABC123/#");
  });

  it("use the configured prefix (Roboticks devices work unchanged)", () => {
    expect(createTopics("roboticks").device("R1").uploadRequest).toBe("roboticks/fleet/R1/file_upload/request");
    expect(createTopics("org/site").requestFilter("uploadRequest")).toBe("org/site/fleet/+/file_upload/request");
  });

  it("build plain and shared subscription filters", () => {
    expect(topics.requestFilter("uploadRequest")).toBe("fleetdrop/fleet/+/file_upload/request");
    expect(topics.requestFilter("sessionOpen", "ingest")).toBe("$share/ingest/fleetdrop/fleet/+/session/open");
    expect(() => topics.requestFilter("uploadRequest", "bad/group")).toThrow();
  });

  it("parse request topics and refuse everything else", () => {
    expect(topics.parseRequest("fleetdrop/fleet/R1/file_upload/request")).toEqual({ deviceId: "R1", kind: "uploadRequest" });
    expect(topics.parseRequest("fleetdrop/fleet/R1/session/close")).toEqual({ deviceId: "R1", kind: "sessionClose" });
    for (const bad of [
      "fleetdrop/fleet/R1/file_upload/response",
      "fleetdrop/fleet//file_upload/request",
      "other/fleet/R1/file_upload/request",
      "fleetdrop/fleet/-bad/file_upload/request",
      "fleetdrop/fleet/R1/file_upload/request/extra",
    ]) {
      expect(topics.parseRequest(bad)).toBeNull();
    }
  });

  it("tell whether a response topic lies under the device", () => {
    expect(topics.isUnderDevice("fleetdrop/fleet/R1/replies/42", "R1")).toBe(true);
    expect(topics.isUnderDevice("fleetdrop/fleet/R2/replies/42", "R1")).toBe(false);
    expect(topics.isUnderDevice("fleetdrop/fleet/R10/x", "R1")).toBe(false);
    expect(topics.isUnderDevice("fleetdrop/fleet/R1/+", "R1")).toBe(false);
    expect(topics.isUnderDevice("elsewhere", "R1")).toBe(false);
  });

  it("refuse invalid prefixes and device ids", () => {
    for (const prefix of ["", "/x", "x/", "a/+/b", "#", "$SYS", "a//b"]) expect(() => createTopics(prefix)).toThrow();
    expect(() => topics.device("a/b")).toThrow();
  });
});

describe("presence topics", () => {
  const t = createTopics("fleetdrop");
  it("tell whose presence a topic reports and who reports it", () => {
    expect(t.presenceFilter).toBe("fleetdrop/fleet/+/presence");
    expect(t.brokerPresence("ROBOT-A")).toBe("fleetdrop/broker/presence/ROBOT-A");
    expect(t.parsePresence(t.device("ROBOT-A").presence)).toEqual({ deviceId: "ROBOT-A", via: "device" });
    expect(t.parsePresence(t.brokerPresence("ROBOT-A"))).toEqual({ deviceId: "ROBOT-A", via: "broker" });
    expect(t.parsePresence("fleetdrop/fleet/ROBOT-A/presence/x")).toBeNull();
    expect(t.parsePresence("fleetdrop/fleet/ROBOT-A/commands")).toBeNull();
    expect(t.parsePresence("fleetdrop/broker/presence/+")).toBeNull();
    expect(t.parsePresence("fleetdrop/broker/presence/a/b")).toBeNull();
    expect(() => t.brokerPresence("a/b")).toThrow();
  });
});

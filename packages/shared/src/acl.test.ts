import { describe, expect, it } from "vitest";
import { canPublish, canSubscribe, isDeviceClientId, isServiceClientId, type TBrokerIdentity } from "./acl";

const a: TBrokerIdentity = { kind: "device", deviceId: "ROBOT-A" };
const worker: TBrokerIdentity = { kind: "service", name: "worker" };

describe("device permissions", () => {
  it("publish only under the device's own namespace", () => {
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-A/file_upload/request")).toBe(true);
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-B/file_upload/request")).toBe(false);
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-AB/file_upload/request")).toBe(false);
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-A/")).toBe(false);
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-A")).toBe(false);
    expect(canPublish(a, "fleetdrop", "other/fleet/ROBOT-A/x")).toBe(false);
    expect(canPublish(a, "fleetdrop", "$SYS/x")).toBe(false);
  });

  it("subscribe only to the device's own topics, never with a wildcard for the device", () => {
    expect(canSubscribe(a, "fleetdrop", "fleetdrop/fleet/ROBOT-A/#")).toBe(true);
    expect(canSubscribe(a, "fleetdrop", "fleetdrop/fleet/ROBOT-A/file_upload/response")).toBe(true);
    expect(canSubscribe(a, "fleetdrop", "fleetdrop/fleet/+/file_upload/response")).toBe(false);
    expect(canSubscribe(a, "fleetdrop", "fleetdrop/fleet/#")).toBe(false);
    expect(canSubscribe(a, "fleetdrop", "#")).toBe(false);
    expect(canSubscribe(a, "fleetdrop", "fleetdrop/fleet/ROBOT-B/#")).toBe(false);
    expect(canSubscribe(a, "fleetdrop", "$share/g/fleetdrop/fleet/ROBOT-A/#")).toBe(false);
  });
});

describe("service permissions", () => {
  it("reach every device's topics, also through shared subscriptions, and nothing outside the fleet", () => {
    expect(canSubscribe(worker, "fleetdrop", "$share/ingest/fleetdrop/fleet/+/file_upload/request")).toBe(true);
    expect(canSubscribe(worker, "fleetdrop", "fleetdrop/fleet/+/file_upload/request")).toBe(true);
    expect(canPublish(worker, "fleetdrop", "fleetdrop/fleet/ROBOT-A/file_upload/response")).toBe(true);
    expect(canSubscribe(worker, "fleetdrop", "#")).toBe(false);
    expect(canPublish(worker, "fleetdrop", "elsewhere/x")).toBe(false);
  });
});

describe("the web app's permissions (as the web role of deploy/mosquitto's services listener)", () => {
  const web: TBrokerIdentity = { kind: "service", name: "web" };
  it("sends commands and reads presence, nothing else", () => {
    expect(canPublish(web, "fleetdrop", "fleetdrop/fleet/ROBOT-A/commands")).toBe(true);
    expect(canSubscribe(web, "fleetdrop", "fleetdrop/fleet/ROBOT-A/presence")).toBe(true);
    expect(canSubscribe(web, "fleetdrop", "fleetdrop/fleet/+/presence")).toBe(true);
    expect(canPublish(web, "fleetdrop", "fleetdrop/fleet/ROBOT-A/file_upload/request")).toBe(false);
    expect(canPublish(web, "fleetdrop", "fleetdrop/fleet/ROBOT-A/file_upload/response")).toBe(false);
    expect(canPublish(web, "fleetdrop", "fleetdrop/fleet/a/b/commands")).toBe(false);
    expect(canSubscribe(web, "fleetdrop", "fleetdrop/fleet/ROBOT-A/file_upload/response")).toBe(false);
    expect(canSubscribe(web, "fleetdrop", "fleetdrop/fleet/#")).toBe(false);
    expect(canSubscribe(web, "fleetdrop", "$share/g/fleetdrop/fleet/+/presence")).toBe(false);
  });
});

describe("client ids bound to the identity", () => {
  it("a device uses its id or <id>/<suffix>; a service id is never a device id", () => {
    expect(isDeviceClientId("ROBOT-A", "ROBOT-A")).toBe(true);
    expect(isDeviceClientId("ROBOT-A", "ROBOT-A/demo")).toBe(true);
    expect(isDeviceClientId("ROBOT-A", "ROBOT-A/")).toBe(false);
    expect(isDeviceClientId("ROBOT-A", "ROBOT-AB")).toBe(false);
    expect(isDeviceClientId("ROBOT-A", "ROBOT-B")).toBe(false);
    expect(isDeviceClientId("ROBOT-A", "fleetdrop-ingest:1")).toBe(false);
    expect(isServiceClientId("fleetdrop-ingest:1")).toBe(true);
    expect(isServiceClientId("fleetdrop-ingest-1")).toBe(false);
    expect(isServiceClientId("a/b:c")).toBe(false);
    expect(isServiceClientId("")).toBe(false);
  });
});

describe("presence topics", () => {
  const web: TBrokerIdentity = { kind: "service", name: "web" };
  it("a device may announce only its own presence", () => {
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-A/presence")).toBe(true);
    expect(canPublish(a, "fleetdrop", "fleetdrop/fleet/ROBOT-B/presence")).toBe(false);
  });
  it("nobody but the embedded broker itself may publish what it says of connections", () => {
    for (const identity of [a, worker, web]) {
      expect(canPublish(identity, "fleetdrop", "fleetdrop/broker/presence/ROBOT-A")).toBe(false);
      expect(canPublish(identity, "fleetdrop", "fleetdrop/broker/presence/ROBOT-B")).toBe(false);
    }
    expect(canSubscribe(worker, "fleetdrop", "fleetdrop/broker/presence/+")).toBe(true);
    expect(canSubscribe(a, "fleetdrop", "fleetdrop/broker/presence/+")).toBe(false);
    expect(canSubscribe(worker, "fleetdrop", "fleetdrop/broker/#")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { canPublish, canSubscribe, type TBrokerIdentity } from "./acl";

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

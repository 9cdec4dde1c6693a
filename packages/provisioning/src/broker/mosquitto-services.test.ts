import { describe, expect, it } from "vitest";
import { parseServiceAccounts, renderServicesDynsec, serviceRoleOf, serviceRoles, verifyDynsecPassword } from "./mosquitto-services";

type TRendered = {
  clients: { username: string; clientid: string; password: string; salt: string; iterations: number; roles: { rolename: string }[] }[];
  roles: { rolename: string; acls: { acltype: string; topic: string }[] }[];
  defaultACLAccess: Record<string, boolean>;
};
const parse = (text: string) => JSON.parse(text) as TRendered;

describe("service accounts (dynamic-security plugin)", () => {
  it("reads one account per instance and refuses names a device could hold, duplicates and missing passwords", () => {
    expect(parseServiceAccounts(" fleetdrop-ingest:1=secret-one\nfleetdrop-ingest:2=a=b=c==== fleetdrop-web:1=web-secret ")).toEqual([
      { username: "fleetdrop-ingest:1", password: "secret-one" },
      { username: "fleetdrop-ingest:2", password: "a=b=c====" },
      { username: "fleetdrop-web:1", password: "web-secret" },
    ]);
    expect(parseServiceAccounts("")).toEqual([]);
    expect(() => parseServiceAccounts("fleetdrop-worker=long-enough")).toThrow(/not a service account/);
    expect(() => parseServiceAccounts("ROBOT-1=long-enough")).toThrow(/not a service account/);
    expect(() => parseServiceAccounts("fleetdrop-ingest:=long-enough")).toThrow(/not a service account/);
    expect(() => parseServiceAccounts("fleetdrop-ingest:a/b=long-enough")).toThrow(/not a service account/);
    expect(() => parseServiceAccounts("fleetdrop-ingest:1=long-enough fleetdrop-ingest:1=other-one")).toThrow(/twice/);
    expect(() => parseServiceAccounts("fleetdrop-ingest:1")).toThrow(/password/);
    expect(() => parseServiceAccounts("fleetdrop-ingest:1=short")).toThrow(/password/);
  });

  it("maps a client id to its role by prefix", () => {
    expect(serviceRoleOf("fleetdrop-ingest:1")).toBe("worker");
    expect(serviceRoleOf("fleetdrop-web:1")).toBe("web");
    expect(serviceRoleOf("fleetdrop-web")).toBeNull();
    expect(serviceRoleOf("other:1")).toBeNull();
  });

  it("binds each account to its own client id, with its role, and keeps a hash that still matches", () => {
    const accounts = [
      { username: "fleetdrop-ingest:1", password: "one-one-one" },
      { username: "fleetdrop-web:1", password: "web-web-web" },
    ];
    const first = renderServicesDynsec(accounts, "fleetdrop", null);
    const config = parse(first);
    expect(config.clients.map((client) => [client.username, client.clientid, client.roles[0]!.rolename])).toEqual([
      ["fleetdrop-ingest:1", "fleetdrop-ingest:1", "fleetdrop-ingest"],
      ["fleetdrop-web:1", "fleetdrop-web:1", "fleetdrop-web"],
    ]);
    expect(verifyDynsecPassword("one-one-one", config.clients[0])).toBe(true);
    expect(verifyDynsecPassword("web-web-web", config.clients[0])).toBe(false);
    expect(config.defaultACLAccess).toEqual({ publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true });
    // Unchanged accounts: the same file (no needless broker restart).
    expect(renderServicesDynsec(accounts, "fleetdrop", first)).toBe(first);
    const rotated = parse(renderServicesDynsec([{ ...accounts[0]!, password: "two-two-two" }, accounts[1]!], "fleetdrop", first));
    expect(verifyDynsecPassword("two-two-two", rotated.clients[0])).toBe(true);
    expect(rotated.clients[1]).toEqual(config.clients[1]);
    expect(renderServicesDynsec(accounts, "fleetdrop", "not json")).toContain('"clientid": "fleetdrop-ingest:1"');
  });

  it("gives the web app's role only commands (send) and presence (read), under the configured prefix", () => {
    const web = serviceRoles("roboticks").find((role) => role.rolename === "fleetdrop-web")!;
    expect(web.acls.map((acl) => `${acl.acltype} ${acl.topic}`).sort()).toEqual([
      "publishClientReceive roboticks/fleet/+/presence",
      "publishClientSend roboticks/fleet/+/commands",
      "subscribePattern roboticks/fleet/+/presence",
    ]);
    const worker = serviceRoles("roboticks").find((role) => role.rolename === "fleetdrop-ingest")!;
    expect(worker.acls.every((acl) => acl.topic.startsWith("roboticks/") || acl.topic.startsWith("$share/+/roboticks/"))).toBe(true);
  });
});

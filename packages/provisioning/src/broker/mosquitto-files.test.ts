import { describe, expect, it } from "vitest";
import { BLOCKED_HEADER, renderCaFiles, renderDeviceAcl, renderPasswordFile } from "./mosquitto-files";
import { assertAclTemplateMatchesPrefix } from "./mosquitto-sync";

const TEMPLATE = "# devices\npattern write fleetdrop/fleet/%u/#\npattern read fleetdrop/fleet/%u/#\n";

describe("mosquitto files", () => {
  it("appends a deny-all block per blocked device, replacing an earlier one", () => {
    const once = renderDeviceAcl(TEMPLATE, ["ROBOT-1", "bad/name", "x#"]);
    expect(once).toContain(`${BLOCKED_HEADER}\nuser ROBOT-1\ntopic deny #\n`);
    expect(once).not.toContain("bad/name");
    expect(once).not.toContain("user x#");
    const again = renderDeviceAcl(once, ["ROBOT-2"]);
    expect(again).not.toContain("ROBOT-1");
    expect(again.match(new RegExp(BLOCKED_HEADER, "g"))).toHaveLength(1);
    expect(renderDeviceAcl(once, [])).toBe(`${TEMPLATE.trimEnd()}\n`);
  });

  it("never writes a username that would break the password file", () => {
    expect(
      renderPasswordFile([
        { username: "ok", hash: "$7$1$a$b" },
        { username: "a:b", hash: "h" },
        { username: "a\nb", hash: "h" },
      ]),
    ).toBe("ok:$7$1$a$b\n");
  });

  it("bundles only CAs that have a CRL", () => {
    expect(
      renderCaFiles({ cas: [{ fingerprint: "f", certificatePem: "CERT", crlPem: null }], passwordDevices: [], blocked: [] }),
    ).toBeNull();
    expect(
      renderCaFiles({ cas: [{ fingerprint: "f", certificatePem: "CERT\n", crlPem: "CRL" }], passwordDevices: [], blocked: [] }),
    ).toEqual({
      ca: "# device CA f\nCERT\n",
      crl: "# CRL of f\nCRL\n",
    });
  });

  it("refuses an ACL template that does not bind the configured topic prefix", () => {
    expect(() => assertAclTemplateMatchesPrefix(TEMPLATE, "fleetdrop")).not.toThrow();
    expect(() => assertAclTemplateMatchesPrefix(TEMPLATE, "roboticks")).toThrow(/does not bind roboticks\/fleet\/%u\//);
  });
});

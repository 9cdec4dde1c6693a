import { describe, expect, it } from "vitest";
import { AgentConfigError, parseAgentConfig } from "./config";
import { createPathFilter, globToRegExp } from "./glob";

const yaml = `
stateDir: state
connection: { url: mqtt://broker:1883, deviceId: ROBOT-1, passwordFile: secret }
maxBytesPerSecond: 1048576
windows: ["22:00-06:00"]
rules:
  - name: logs
    folder: /var/log/robot
    include: ["*.log"]
    session: { per: day }
    priority: 10
  - name: video
    folder: ./video
    exclude: ["**/*.part"]
    ready: { renamedFrom: ["*.part"] }
    transport: mqtt
    afterUpload: { moveTo: /srv/sent }
`;

describe("the agent's config file", () => {
  it("reads YAML with defaults, paths relative to the file", () => {
    const config = parseAgentConfig(yaml, "/etc/fleetdrop/agent.yaml");
    expect(config.stateDir).toBe("/etc/fleetdrop/state");
    expect(config.connection.passwordFile).toBe("/etc/fleetdrop/secret");
    expect(config.rules[0]).toMatchObject({
      name: "logs",
      ready: { stableSeconds: 5 },
      transport: "https",
      afterUpload: "keep",
      prefix: "",
    });
    expect(config.rules[1]).toMatchObject({
      folder: "/etc/fleetdrop/video",
      session: { per: "folder" },
      afterUpload: { moveTo: "/srv/sent" },
    });
    expect(config.windows).toEqual([{ from: 22 * 60, to: 6 * 60, text: "22:00-06:00" }]);
    expect(config.rescanSeconds).toBe(300);
  });

  it("reads JSON by its extension", () => {
    const config = parseAgentConfig(JSON.stringify({ stateDir: "/s", rules: [{ name: "a", folder: "/d" }] }), "/x/agent.json");
    expect(config.rules[0]!.session).toEqual({ per: "folder" });
  });

  it("lists every problem with where it is, and refuses unknown fields", () => {
    const bad = `
stateDir: /s
rules:
  - name: "bad name"
    folder: /d
    transport: carrier-pigeon
    session: { per: week }
    include: ["[abc"]
    afterUpload: shred
  - name: x
    folder: /e
    colour: blue
windows: ["25:00-01:00", "08:00-08:00"]
`;
    let error: unknown;
    try {
      parseAgentConfig(bad, "/etc/agent.yaml");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AgentConfigError);
    const text = (error as Error).message;
    expect(text).toMatch(/^\/etc\/agent\.yaml has \d+ problems:/);
    for (const where of [
      "rules.0.name",
      "rules.0.transport",
      "rules.0.session",
      "rules.0.include.0",
      "rules.0.afterUpload",
      "rules.1",
      "windows.0",
      "windows.1",
    ])
      expect(text).toContain(`  ${where}:`);
    expect(text).toContain("colour");
  });

  it("refuses what would lose or loop files: a move into the watched folder, state inside it, two rules of one name, no rules", () => {
    expect(() => parseAgentConfig("stateDir: /d/state\nrules: [{ name: a, folder: /d }]", "/c.yaml")).toThrow(/stateDir: must be outside/);
    expect(() => parseAgentConfig("stateDir: /s\nrules: [{ name: a, folder: /d, afterUpload: { moveTo: /d/sent } }]", "/c.yaml")).toThrow(
      /moveTo: must be outside/,
    );
    expect(() => parseAgentConfig("stateDir: /s\nrules: [{ name: a, folder: /d }, { name: a, folder: /e }]", "/c.yaml")).toThrow(
      /two rules are named a/,
    );
    expect(() => parseAgentConfig("stateDir: /s\nrules: []", "/c.yaml")).toThrow(/rules/);
    expect(() => parseAgentConfig("stateDir: [", "/c.yaml")).toThrow(/is not valid YAML/);
  });
});

describe("globs", () => {
  it("match names at any depth without a slash, and paths from the folder with one", () => {
    const log = globToRegExp("*.log");
    expect(log.test("a.log") && log.test("x/y/a.log")).toBe(true);
    expect(log.test("a.log.gz")).toBe(false);
    expect(globToRegExp("logs/**").test("logs/a/b.txt")).toBe(true);
    expect(globToRegExp("logs/*.txt").test("logs/a/b.txt")).toBe(false);
    expect(globToRegExp("**/cam?/*.{mp4,mcap}").test("run1/cam2/x.mcap")).toBe(true);
    expect(globToRegExp("[!.]*").test(".hidden")).toBe(false);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });

  it("include any (none: all), exclude wins", () => {
    const accepts = createPathFilter(["*.log", "*.mcap"], ["tmp/**"]);
    expect(accepts("x.log")).toBe(true);
    expect(accepts("tmp/x.log")).toBe(false);
    expect(accepts("x.jpg")).toBe(false);
    expect(createPathFilter([], [".*"])("anything")).toBe(true);
    expect(createPathFilter([], [".*"])(".partial")).toBe(false);
  });
});

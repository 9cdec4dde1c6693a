/**
 * The agent's config file (`fleetdrop-device agent --config FILE`), JSON or YAML, validated once at
 * start: a wrong field stops the agent with every problem and where it is, before it touches a
 * file. Relative paths are taken from the config file's folder.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { globToRegExp } from "./glob";
import { parseWindow, type TWindow } from "./schedule";

const ZGlobSchema = z.string().superRefine((value, ctx) => {
  try {
    globToRegExp(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

const ZNameSchema = z.string().trim().min(1).max(200);

/** How a rule's files map to sessions, all opened (and closed where it says so) by the agent. */
export const ZSessionMappingSchema = z.union(
  [
    z.object({ per: z.literal("folder") }).strict(),
    z.object({ per: z.literal("run") }).strict(),
    z.object({ per: z.literal("day") }).strict(),
    z.object({ name: ZNameSchema }).strict(),
  ],
  { error: 'one of { per: folder }, { per: run }, { per: day } or { name: "a session name" }' },
);
export type TSessionMapping = z.infer<typeof ZSessionMappingSchema>;

/** When a file is ready: unchanged for N seconds, or as soon as it carries a final name (writers that rename). */
export const ZReadinessSchema = z.union(
  [z.object({ stableSeconds: z.number().min(0).max(86_400) }).strict(), z.object({ renamedFrom: z.array(ZGlobSchema).min(1) }).strict()],
  { error: 'one of { stableSeconds: N } (0 to 86400) or { renamedFrom: ["*.part"] }' },
);
export type TReadiness = z.infer<typeof ZReadinessSchema>;

export const ZAfterUploadSchema = z.union([z.literal("keep"), z.literal("delete"), z.object({ moveTo: z.string().min(1) }).strict()]);
export type TAfterUpload = z.infer<typeof ZAfterUploadSchema>;

export const TRANSPORT_NAMES = ["https", "mqtt"] as const;

export const ZRuleSchema = z
  .object({
    /** Names the rule in logs, sessions and the state file: letters, digits, `_`, `-`. */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - (at most 64)"),
    folder: z.string().min(1),
    include: z.array(ZGlobSchema).default([]),
    exclude: z.array(ZGlobSchema).default([]),
    session: ZSessionMappingSchema.default({ per: "folder" }),
    ready: ZReadinessSchema.default({ stableSeconds: 5 }),
    /** Higher first: logs before video. */
    priority: z.number().int().min(-1000).max(1000).default(0),
    transport: z.enum(TRANSPORT_NAMES).default("https"),
    /** Prefix of the name in the session (a folder, e.g. `logs/`); default: none. */
    prefix: z.string().max(200).default(""),
    /** What to do with a file once the platform confirmed it (opt-in; default keep). */
    afterUpload: ZAfterUploadSchema.default("keep"),
  })
  .strict();

export const ZConnectionSchema = z
  .object({
    url: z.string().min(1).optional(),
    deviceId: z.string().min(1).optional(),
    password: z.string().optional(),
    /** A file holding the password (kept out of the config). */
    passwordFile: z.string().optional(),
    topicPrefix: z.string().optional(),
    ca: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).optional(),
    timeoutSeconds: z.number().positive().max(600).optional(),
  })
  .strict();

export const ZAgentConfigSchema = z
  .object({
    /** Where the agent keeps its queue (a few files); must survive reboots. */
    stateDir: z.string().min(1),
    connection: ZConnectionSchema.default({}),
    rules: z.array(ZRuleSchema).min(1),
    /** Bytes per second over all uploads; absent: no cap. */
    maxBytesPerSecond: z.number().int().min(1024).optional(),
    /** Local times uploads may run, e.g. ["22:00-06:00"]; absent: always. */
    windows: z
      .array(
        z.string().superRefine((value, ctx) => {
          try {
            parseWindow(value);
          } catch (error) {
            ctx.addIssue({ code: "custom", message: (error as Error).message });
          }
        }),
      )
      .optional(),
    /** How often the whole folder tree is looked through again besides change events. */
    rescanSeconds: z.number().min(1).max(86_400).default(300),
    /** How often the agent reports its backlog while connected (agent/status). */
    statusSeconds: z.number().min(5).max(3600).default(60),
    /** How long SIGTERM waits for the upload under way before leaving it to resume next time. */
    stopGraceSeconds: z.number().min(0).max(600).default(10),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.rules.forEach((rule, index) => {
      if (names.has(rule.name))
        ctx.addIssue({ code: "custom", path: ["rules", index, "name"], message: `two rules are named ${rule.name}` });
      names.add(rule.name);
    });
  });

export type TAgentRule = z.infer<typeof ZRuleSchema>;
export type TAgentConfig = Omit<z.infer<typeof ZAgentConfigSchema>, "windows"> & { windows: TWindow[]; file: string };

export class AgentConfigError extends Error {
  readonly usage = true;
}

/** Reads, parses and checks a config file; paths come back absolute. */
export async function loadAgentConfig(file: string): Promise<TAgentConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new AgentConfigError(
      `cannot read the agent config ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseAgentConfig(text, file);
}

export function parseAgentConfig(text: string, file: string): TAgentConfig {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new AgentConfigError(`${file} is not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(error as Error).message}`);
  }
  const parsed = ZAgentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.length ? issue.path.join(".") : "(the file)"}: ${issue.message}`);
    throw new AgentConfigError(`${file} has ${lines.length === 1 ? "a problem" : `${lines.length} problems`}:\n${lines.join("\n")}`);
  }
  const base = path.dirname(path.resolve(file));
  const abs = (p: string) => path.resolve(base, p);
  const config = parsed.data;
  const rules = config.rules.map((rule) => ({
    ...rule,
    folder: abs(rule.folder),
    afterUpload: typeof rule.afterUpload === "object" ? { moveTo: abs(rule.afterUpload.moveTo) } : rule.afterUpload,
  }));
  const problems: string[] = [];
  for (const rule of rules) {
    if (typeof rule.afterUpload === "object" && isInside(rule.afterUpload.moveTo, rule.folder))
      problems.push(`  rules.${rule.name}.afterUpload.moveTo: must be outside the folder it watches (${rule.folder})`);
    if (isInside(abs(config.stateDir), rule.folder)) problems.push(`  stateDir: must be outside the watched folder ${rule.folder}`);
  }
  if (problems.length > 0) throw new AgentConfigError(`${file}:\n${problems.join("\n")}`);
  const rel = (p?: string) => (p && !p.includes("-----BEGIN") ? abs(p) : p);
  return {
    ...config,
    file: path.resolve(file),
    stateDir: abs(config.stateDir),
    rules,
    windows: (config.windows ?? []).map(parseWindow),
    connection: {
      ...config.connection,
      ca: rel(config.connection.ca),
      cert: rel(config.connection.cert),
      key: rel(config.connection.key),
      passwordFile: config.connection.passwordFile ? abs(config.connection.passwordFile) : undefined,
    },
  };
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

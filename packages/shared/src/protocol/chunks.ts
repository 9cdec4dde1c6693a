/**
 * Chunk forwarding (docs/protocol.md#chunks): `P/fleet/D/chunks/{stream}` (raw bytes, QoS 1) is forwarded to the
 * HTTP endpoint its project configured for `{stream}`. Refusals (and, when an MQTT 5 device
 * asks with a Response Topic, acceptances) are answered on `P/fleet/D/chunks/response`.
 *
 * Also the configuration of a stream as the dashboard edits it (table `chunk_streams`).
 */
import { z } from "zod";
import { ZResponseEnvelopeSchema } from "./common";

export const STREAM_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** `chunks/response` is where answers go, so no stream may be called that. */
export const RESERVED_STREAM_NAMES = new Set(["response"]);

export function isValidStreamName(value: unknown): value is string {
  return typeof value === "string" && STREAM_NAME_PATTERN.test(value) && !RESERVED_STREAM_NAMES.has(value);
}

export const ZChunkResponseSchema = ZResponseEnvelopeSchema.extend({
  stream: z.string(),
  code: z.string().optional(),
  error: z.string().optional(),
  /** On acceptance: the outbox id the chunk was stored under. */
  chunk_id: z.string().optional(),
});

export type TChunkResponse = z.infer<typeof ZChunkResponseSchema>;

/** Placeholders a stream's URL and header templates may use. */
export const CHUNK_TEMPLATE_FIELDS = ["device_id", "stream"] as const;
export type TChunkTemplateValues = Record<(typeof CHUNK_TEMPLATE_FIELDS)[number], string>;

const PLACEHOLDER = /\{([a-z_]+)\}/g;

function templateProblem(template: string): string | null {
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (!(CHUNK_TEMPLATE_FIELDS as readonly string[]).includes(match[1]!)) {
      return `unknown placeholder {${match[1]}}: use ${CHUNK_TEMPLATE_FIELDS.map((field) => `{${field}}`).join(" or ")}`;
    }
  }
  return null;
}

/**
 * Fills `{device_id}` and `{stream}`. In a URL the values are percent-encoded (a device id may
 * hold `.`, never `/`), in a header they are inserted as they are.
 */
export function renderChunkTemplate(template: string, values: TChunkTemplateValues, mode: "url" | "header"): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = (values as Record<string, string>)[name];
    if (value === undefined) return whole;
    return mode === "url" ? encodeURIComponent(value) : value;
  });
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Headers the forwarder sets itself. */
export const RESERVED_CHUNK_HEADERS = new Set(["content-length", "host", "transfer-encoding", "connection"]);

/** A stream as the dashboard creates it; the worker reads the same columns. */
export const ZChunkStreamConfigSchema = z.object({
  name: z.string().refine(isValidStreamName, { error: 'Use 1 to 64 letters, digits, - or _ (not "response")' }),
  url_template: z
    .string()
    .trim()
    .max(2000, { error: "URLs are at most 2000 characters" })
    .superRefine((value, ctx) => {
      const problem = templateProblem(value);
      if (problem) return ctx.addIssue({ code: "custom", message: problem });
      try {
        const url = new URL(renderChunkTemplate(value, { device_id: "D", stream: "s" }, "url"));
        if (url.protocol !== "http:" && url.protocol !== "https:")
          ctx.addIssue({ code: "custom", message: "Use an http:// or https:// URL" });
      } catch {
        ctx.addIssue({ code: "custom", message: "Enter a URL, e.g. https://crash.example.com/api/chunks/{device_id}" });
      }
    }),
  headers: z
    .record(z.string(), z.string().max(4000))
    .default({})
    .superRefine((headers, ctx) => {
      for (const [name, value] of Object.entries(headers)) {
        if (!HEADER_NAME.test(name))
          ctx.addIssue({ code: "custom", path: [name], message: `${JSON.stringify(name)} is not a header name` });
        else if (RESERVED_CHUNK_HEADERS.has(name.toLowerCase()))
          ctx.addIssue({ code: "custom", path: [name], message: `${name} is set by the forwarder` });
        else if (/[\r\n\0]/.test(value)) ctx.addIssue({ code: "custom", path: [name], message: "Header values are one line" });
        else {
          const problem = templateProblem(value);
          if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem });
        }
      }
    }),
  enabled: z.boolean().default(true),
  max_attempts: z.number().int().min(1).max(1000).default(10),
  timeout_ms: z.number().int().min(100).max(300_000).default(10_000),
});

export type TChunkStreamConfig = z.infer<typeof ZChunkStreamConfigSchema>;

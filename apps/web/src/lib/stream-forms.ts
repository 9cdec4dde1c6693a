/**
 * The "new chunk stream" form (docs/protocol.md#chunks), shared by the browser and the server action. Headers are
 * typed one per line as `Name: value`; every problem is reported on the form field it comes from.
 */
import { z } from "zod";
import { ZChunkStreamConfigSchema, type TChunkStreamConfig } from "@fleetdrop/shared/protocol/chunks";

function parseHeaderLines(text: string): { headers: Record<string, string>; problem: string | null } {
  const headers: Record<string, string> = {};
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) return { headers, problem: `Line ${index + 1}: write headers as Name: value` };
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return { headers, problem: null };
}

export const ZStreamFormSchema = z
  .object({
    name: z.string(),
    url_template: z.string(),
    headers: z.string().optional().default(""),
    max_attempts: z.coerce.number({ error: "Enter a number" }).default(10),
    timeout_ms: z.coerce.number({ error: "Enter a number" }).default(10_000),
  })
  .transform((form, ctx): TChunkStreamConfig => {
    const { headers, problem } = parseHeaderLines(form.headers);
    if (problem) {
      ctx.addIssue({ code: "custom", path: ["headers"], message: problem });
      return z.NEVER;
    }
    const parsed = ZChunkStreamConfigSchema.safeParse({
      name: form.name,
      url_template: form.url_template,
      headers,
      max_attempts: form.max_attempts,
      timeout_ms: form.timeout_ms,
      enabled: true,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? "name");
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: field === "headers" && issue.path[1] ? `${String(issue.path[1])}: ${issue.message}` : issue.message,
        });
      }
      return z.NEVER;
    }
    return parsed.data;
  });

/**
 * The dashboard's "send commands" form: a service name and the commands, one per line (or a
 * JSON array of {"command"} pasted as is). Validated the same in the browser and the server.
 */
import { z } from "zod";
import { MAX_COMMANDS, SERVICE_NAME_PATTERN, ZCommandListSchema } from "@fleetdrop/shared/protocol/commands";

const ZServiceNameFormSchema = z
  .string()
  .trim()
  .min(1, { error: "Enter the service that runs the commands, e.g. monitor" })
  .max(64, { error: "A service name is at most 64 characters" })
  .regex(SERVICE_NAME_PATTERN, { error: "Use letters, digits, '.', '_' or '-', starting with a letter or digit" });

/** Lines (or a JSON array) → [{command}]; every problem is a sentence for the form. */
const ZCommandsTextSchema = z
  .string()
  .transform((text, ctx) => {
    const trimmed = text.trim();
    if (trimmed.startsWith("[")) {
      try {
        return JSON.parse(trimmed) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "This looks like JSON but is not valid JSON; or write one command per line" });
        return z.NEVER;
      }
    }
    return trimmed
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .map((command) => ({ command }));
  })
  .transform((value, ctx) => {
    // Problems inside the list are reported on the field itself, naming the command.
    const parsed = ZCommandListSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const index = issue?.path[0];
    ctx.addIssue({
      code: "custom",
      message:
        (typeof index === "number" ? `Command ${index + 1}: ` : "") + (issue?.message ?? `A list of at most ${MAX_COMMANDS} commands`),
    });
    return z.NEVER;
  });

export const ZSendCommandsSchema = z.object({
  serial: z.string().min(1).max(64),
  service: ZServiceNameFormSchema,
  commands: ZCommandsTextSchema,
});

export type TSendCommands = z.infer<typeof ZSendCommandsSchema>;

/**
 * Building blocks of the environment modules every package owns (`@fleetdrop/storage/env`,
 * `@fleetdrop/db/env`, `@fleetdrop/shared/mqtt-env`, …) and every app composes: one rule per
 * kind of value, so a variable means the same in every process that reads it.
 */
import { z } from "zod";

/** yes/no, true/false, 1/0 (any case): the same words are accepted by every process. */
export const envBoolean = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false (also yes/no, 1/0)" }))
  .transform((value) => value === "true" || value === "1" || value === "yes");

export const envPort = z.coerce.number().int().min(0).max(65535);

/** Empty strings mean "not set" (docker-compose passes unset variables as empty). */
export function withoutEmpty(source: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}

/** One line per problem: `<prefix>NAME: message`. */
export function envIssueLines(error: z.ZodError, prefix = "  "): string[] {
  return error.issues.map((issue) => `${prefix}${issue.path.join(".") || "env"}: ${issue.message}`);
}

type TEnvValue = string | number | boolean | undefined | null;

/**
 * A child process's environment from typed settings (the input of a module's schema): numbers
 * and booleans as the text the schema reads back, unset values left out.
 */
export function toEnvVariables(settings: Readonly<Record<string, TEnvValue>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings)
      .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined && entry[1] !== null)
      .map(([name, value]) => [name, String(value)]),
  );
}

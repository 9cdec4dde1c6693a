/** The database every service connects to: one rule for DATABASE_URL, composed by each app's env. */
import { z } from "zod";

export const ZDbEnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, {
    error: "DATABASE_URL must be a postgresql:// URL (e.g. postgresql://user:password@host:5432/fleetdrop)",
  }),
});

export type TDbEnv = z.infer<typeof ZDbEnvSchema>;

/** Entry point of `fleetdrop-admin` (bin/fleetdrop-admin.mjs): argv, env and signals. */
import { runAdmin } from "./admin-cli";

const stopSignal = new Promise<void>((resolve) => {
  process.once("SIGTERM", resolve);
  process.once("SIGINT", resolve);
});

// `pnpm --filter … admin` runs in the package folder; INIT_CWD is where the user typed it.
const cwd = process.env.INIT_CWD ?? process.cwd();

runAdmin(process.argv.slice(2), { env: process.env, print: (line) => console.log(line), cwd, stopSignal })
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });

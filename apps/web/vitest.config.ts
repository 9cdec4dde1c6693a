import path from "node:path";
import { vitestConfig } from "@fleetdrop/vitest-config";
import { mergeConfig } from "vitest/config";

export default mergeConfig(vitestConfig({ setupFiles: ["test/setup-database.ts"] }), {
  resolve: {
    alias: {
      "@": path.resolve(import.meta.dirname, "src"),
      // `server-only` throws outside React's server bundle; tests are server code.
      "server-only": path.resolve(import.meta.dirname, "test/empty-module.ts"),
    },
  },
  test: {
    server: { deps: { inline: ["next-auth"] } },
  },
});

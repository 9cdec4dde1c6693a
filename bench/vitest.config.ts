import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The short fault suite: five faults of about 20 s each, and up to 60 s more for each fault
    // whose files stay pending.
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
});

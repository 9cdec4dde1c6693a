import type { ViteUserConfig } from "vitest/config";

export interface VitestConfigOptions {
  /** Longest a single test may run, in ms (default 30 s). */
  testTimeout?: number;
  /**
   * At most this many test files at once. Set it where tests start brokers and databases, so that
   * a 2-core machine stays responsive; unset, vitest picks from the number of cores.
   */
  maxWorkers?: number;
  /** Files run before each test file, relative to the package. */
  setupFiles?: string[];
}

/**
 * The vitest configuration of a workspace package: tests are `src/**\/*.test.ts` and
 * `test/**\/*.test.ts`, and a hook (a database or broker to start) gets 60 s.
 */
export function vitestConfig(options?: VitestConfigOptions): ViteUserConfig;

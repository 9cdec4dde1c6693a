// Plain JavaScript: vite loads a vitest.config.ts by bundling only its relative imports and leaves
// packages to Node, which cannot import TypeScript on every Node version the repository supports.

/** @type {typeof import("./index.d.ts").vitestConfig} */
export function vitestConfig(options = {}) {
  const { testTimeout = 30_000, maxWorkers, setupFiles } = options;
  return {
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout,
      hookTimeout: 60_000,
      ...(maxWorkers === undefined ? {} : { maxWorkers }),
      ...(setupFiles === undefined ? {} : { setupFiles }),
    },
  };
}

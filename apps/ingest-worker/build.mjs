// Bundles the worker with everything it imports into dist/index.js, so the production image
// runs `node dist/index.js` with no TypeScript tooling and no workspace resolution at run time.
import { build } from "esbuild";

await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  // Optional native driver pg probes for; never installed.
  external: ["pg-native"],
  banner: {
    js: [
      "import { createRequire as __fleetdropCreateRequire } from 'node:module';",
      "import { fileURLToPath as __fleetdropFileURLToPath } from 'node:url';",
      "const require = __fleetdropCreateRequire(import.meta.url);",
      "const __filename = __fleetdropFileURLToPath(import.meta.url);",
      "const __dirname = __fleetdropFileURLToPath(new URL('.', import.meta.url));",
    ].join(" "),
  },
  logLevel: "warning",
});
console.log("built dist/index.js");

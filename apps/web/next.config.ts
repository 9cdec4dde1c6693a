import type { NextConfig } from "next";
import { PHASE_PRODUCTION_BUILD } from "next/constants";
import { parseWebEnv } from "./src/env";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Workspace packages are TypeScript source.
  transpilePackages: ["@fleetdrop/db", "@fleetdrop/shared", "@fleetdrop/storage", "@fleetdrop/provisioning"],
  serverExternalPackages: ["pg"],
  experimental: {
    // forbidden() for signed-in users without the role a page needs.
    authInterrupts: true,
  },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

/**
 * An invalid environment fails `next build`; a missing database URL or secret fails
 * `next start` (and `next dev`), before the first request.
 */
export default function config(phase: string): NextConfig {
  parseWebEnv(process.env, { forBuild: phase === PHASE_PRODUCTION_BUILD });
  return nextConfig;
}

/** Browser-safe model types and enums (no client, no driver). */
export * from "./generated/prisma/browser";

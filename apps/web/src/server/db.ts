import "server-only";
import { getPrismaClient, type TPrismaClient } from "@fleetdrop/db";
import { env } from "@/env";

/** The process-wide Prisma client (one pool per database URL). */
export function db(): TPrismaClient {
  return getPrismaClient(env.DATABASE_URL);
}

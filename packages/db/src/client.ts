/**
 * The Prisma client both apps use. Secret columns are omitted unless a query asks for them.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client";

export type TCreatePrismaOptions = {
  databaseUrl: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
};

export function createPrismaClient({ databaseUrl, maxConnections = 10 }: TCreatePrismaOptions) {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: maxConnections });
  return new PrismaClient({
    adapter,
    omit: {
      user: { passwordHash: true },
      device: { passwordHash: true, brokerPasswordHash: true },
      deviceCa: { encryptedKey: true },
    },
  });
}

export type TPrismaClient = ReturnType<typeof createPrismaClient>;

const globalForPrisma = globalThis as unknown as { fleetdropPrisma?: Map<string, TPrismaClient> };

/**
 * One client per database URL for the life of the process (survives Next.js hot reloads in
 * development, where modules are re-evaluated).
 */
export function getPrismaClient(databaseUrl: string): TPrismaClient {
  globalForPrisma.fleetdropPrisma ??= new Map();
  let client = globalForPrisma.fleetdropPrisma.get(databaseUrl);
  if (!client) {
    client = createPrismaClient({ databaseUrl });
    globalForPrisma.fleetdropPrisma.set(databaseUrl, client);
  }
  return client;
}

export { Prisma } from "./generated/prisma/client";
export * from "./generated/prisma/enums";
export type * from "./generated/prisma/models";

import "server-only";
import { ZChunkStreamConfigSchema, type TChunkStreamConfig } from "@fleetdrop/shared/protocol/chunks";
import { CAN } from "@/lib/roles";
import { db } from "@/server/db";
import { writeAudit } from "@/server/audit/write-audit";
import { requireRole, type TProjectContext } from "@/server/auth/project-context";
import { NotFoundError, UserInputError } from "@/server/errors";

/** Creates a stream of the project (docs/protocol.md#chunks); devices publish to P/fleet/D/chunks/{name}. */
export async function createChunkStream(options: { ctx: TProjectContext; config: TChunkStreamConfig }): Promise<{ id: string }> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const config = ZChunkStreamConfigSchema.parse(options.config);
  const prisma = db();
  if (
    await prisma.chunkStream.findUnique({
      where: { projectId_name: { projectId: ctx.project.id, name: config.name } },
      select: { id: true },
    })
  ) {
    throw new UserInputError(`This project already has a stream called ${config.name}`, "name");
  }
  const stream = await prisma.chunkStream.create({
    data: {
      projectId: ctx.project.id,
      name: config.name,
      urlTemplate: config.url_template,
      headers: config.headers,
      enabled: config.enabled,
      maxAttempts: config.max_attempts,
      timeoutMs: config.timeout_ms,
    },
    select: { id: true },
  });
  await writeAudit(ctx, {
    action: "stream.create",
    targetType: "chunk_stream",
    targetId: stream.id,
    details: { name: config.name, url: config.url_template, headers: Object.keys(config.headers) },
  });
  return stream;
}

async function streamOf(ctx: TProjectContext, streamId: string) {
  const stream = await db().chunkStream.findFirst({ where: { id: streamId, projectId: ctx.project.id }, select: { id: true, name: true } });
  if (!stream) throw new NotFoundError("No such stream");
  return stream;
}

export async function setChunkStreamEnabled(options: { ctx: TProjectContext; streamId: string; enabled: boolean }): Promise<void> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const stream = await streamOf(ctx, options.streamId);
  await db().chunkStream.update({ where: { id: stream.id }, data: { enabled: options.enabled } });
  await writeAudit(ctx, {
    action: options.enabled ? "stream.enable" : "stream.disable",
    targetType: "chunk_stream",
    targetId: stream.id,
    details: { name: stream.name },
  });
}

/**
 * Parked chunks of one stream go back to the outbox (attempts reset) and their lanes are due
 * now; or they are discarded. Scoped to the project: ids of other projects change nothing.
 */
export async function resolveParkedChunks(options: {
  ctx: TProjectContext;
  streamId: string;
  action: "retry" | "discard";
}): Promise<number> {
  const { ctx } = options;
  requireRole(ctx, CAN.manageDevices);
  const stream = await streamOf(ctx, options.streamId);
  const prisma = db();
  const count = await prisma.$transaction(async (tx) => {
    if (options.action === "discard") {
      return (await tx.chunk.deleteMany({ where: { streamId: stream.id, state: "parked" } })).count;
    }
    const retried = await tx.chunk.updateMany({
      where: { streamId: stream.id, state: "parked" },
      data: { state: "pending", attempts: 0, parkedAt: null },
    });
    await tx.chunkLane.updateMany({ where: { streamId: stream.id }, data: { nextAttemptAt: new Date() } });
    return retried.count;
  });
  await writeAudit(ctx, {
    action: `stream.parked_${options.action}`,
    targetType: "chunk_stream",
    targetId: stream.id,
    details: { name: stream.name, chunks: count },
  });
  return count;
}

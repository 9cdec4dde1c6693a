import { db } from "@/server/db";

export const dynamic = "force-dynamic";

/** Liveness for container health checks and load balancers: 200 when the database answers. */
export async function GET() {
  try {
    await db().$queryRaw`SELECT 1`;
    return Response.json({ ok: true });
  } catch {
    return Response.json({ ok: false, error: "database unavailable" }, { status: 503 });
  }
}

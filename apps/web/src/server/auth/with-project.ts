import "server-only";
import { NextResponse } from "next/server";
import { env } from "@/env";
import { hasRole, type TRole } from "@/lib/roles";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { crossSiteRefusal } from "@/server/http/same-origin";
import { clientIp } from "./client-ip";
import { resolveProjectContext, type TUserProjectContext } from "./project-context";
import { getSessionUser, type TSessionUser } from "./session-user";

type TRouteParams = { project: string };
type TRouteContext<P> = { params: Promise<P> };

export type TProjectRouteHandler<P extends TRouteParams> = (
  request: Request,
  args: { ctx: TUserProjectContext; params: P },
) => Promise<Response>;

export type TWithProjectDeps = { getUser: () => Promise<TSessionUser | null> };

const json = (status: number, error: string) => NextResponse.json({ error }, { status, headers: { "Cache-Control": "no-store" } });

/**
 * Route-handler wrapper that refuses by default: a state-changing request from another site →
 * 403 (proxy.ts refuses those first; this holds even for a path its matcher misses), no
 * signed-in user → 401, not a member of the project in the URL (or no such project) → 404,
 * role below `role` → 403. The role is a required option, so a handler cannot forget to state
 * what it needs. Domain errors thrown by the handler map to 404/403/400.
 */
export function createWithProject(deps: TWithProjectDeps) {
  return function withProject<P extends TRouteParams>(handler: TProjectRouteHandler<P>, options: { role: TRole }) {
    return async (request: Request, context: TRouteContext<P>): Promise<Response> => {
      const refusal = crossSiteRefusal(request, { appUrl: env.NEXTAUTH_URL });
      if (refusal) return json(403, refusal);
      const user = await deps.getUser();
      if (!user) return json(401, "Sign in to continue");
      const params = await context.params;
      const ctx = await resolveProjectContext(user, params.project);
      if (!ctx) return json(404, "Not found");
      if (!hasRole(ctx.role, options.role)) return json(403, "Your role in this project does not allow this");
      ctx.ip = clientIp(request.headers);
      try {
        return await handler(request, { ctx, params });
      } catch (error) {
        if (error instanceof NotFoundError) return json(404, "Not found");
        if (error instanceof ForbiddenError) return json(403, error.message);
        if (error instanceof UserInputError) return json(400, error.message);
        throw error;
      }
    };
  };
}

export const withProject = createWithProject({ getUser: getSessionUser });

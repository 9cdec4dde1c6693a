import "server-only";
import { headers } from "next/headers";
import { z } from "zod";
import { fieldErrors } from "@/lib/forms";
import { hasRole, type TRole } from "@/lib/roles";
import { formDataToObject, type TActionResult } from "@/lib/action-result";
import { ForbiddenError, NotFoundError, UserInputError } from "@/server/errors";
import { clientIp } from "./client-ip";
import { resolveProjectContext, type TUserProjectContext } from "./project-context";
import { getSessionUser, type TSessionUser } from "./session-user";

function failure(error: unknown): TActionResult<never> {
  if (error instanceof UserInputError) {
    return error.field
      ? { ok: false, error: "Check the highlighted fields", fieldErrors: { [error.field]: error.message } }
      : { ok: false, error: error.message };
  }
  if (error instanceof NotFoundError) return { ok: false, error: "Not found: it may have been deleted, or you have no access to it." };
  if (error instanceof ForbiddenError) return { ok: false, error: error.message };
  throw error;
}

type TActionDeps = {
  getUser: () => Promise<TSessionUser | null>;
  getIp: () => Promise<string | null>;
};

const defaultDeps: TActionDeps = {
  getUser: getSessionUser,
  getIp: async () => clientIp(await headers()),
};

/**
 * A server action scoped to the project named by the input's `project` field. Refuses by
 * default: signed out, not a member, or below `role` → an error result, never the handler.
 * Input is validated with `schema` (the same zod schema the form uses in the browser).
 */
export function projectAction<S extends z.ZodType, R>(
  options: { role: TRole; schema: S },
  handler: (args: { ctx: TUserProjectContext; input: z.infer<S> }) => Promise<TActionResult<R>>,
  deps: TActionDeps = defaultDeps,
) {
  return async (_previous: TActionResult<R> | null, data: FormData | Record<string, unknown>): Promise<TActionResult<R>> => {
    const user = await deps.getUser();
    if (!user) return { ok: false, error: "Your sign-in has ended. Sign in again." };
    const raw = formDataToObject(data);
    const ctx = typeof raw.project === "string" ? await resolveProjectContext(user, raw.project) : null;
    if (!ctx) return { ok: false, error: "Not found: it may have been deleted, or you have no access to it." };
    if (!hasRole(ctx.role, options.role)) return { ok: false, error: "Your role in this project does not allow this" };
    ctx.ip = await deps.getIp();
    const parsed = options.schema.safeParse(raw);
    if (!parsed.success) return { ok: false, error: "Check the highlighted fields", fieldErrors: fieldErrors(parsed.error) };
    try {
      return await handler({ ctx, input: parsed.data });
    } catch (error) {
      return failure(error);
    }
  };
}

/** A server action for any signed-in user (own account), or platform admins with `admin: true`. */
export function userAction<S extends z.ZodType, R>(
  options: { schema: S; platformAdmin?: boolean },
  handler: (args: { user: TSessionUser; ip: string | null; input: z.infer<S> }) => Promise<TActionResult<R>>,
  deps: TActionDeps = defaultDeps,
) {
  return async (_previous: TActionResult<R> | null, data: FormData | Record<string, unknown>): Promise<TActionResult<R>> => {
    const user = await deps.getUser();
    if (!user) return { ok: false, error: "Your sign-in has ended. Sign in again." };
    if (options.platformAdmin && !user.isAdmin) return { ok: false, error: "Only platform administrators can do this" };
    const parsed = options.schema.safeParse(formDataToObject(data));
    if (!parsed.success) return { ok: false, error: "Check the highlighted fields", fieldErrors: fieldErrors(parsed.error) };
    try {
      return await handler({ user, ip: await deps.getIp(), input: parsed.data });
    } catch (error) {
      return failure(error);
    }
  };
}

import "server-only";
import { cache } from "react";
import { getServerSession } from "next-auth";
import { db } from "@/server/db";
import { authOptions } from "./options";

export type TSessionUser = {
  id: string;
  email: string;
  name: string;
  /** Platform administrator: creates projects and users. */
  isAdmin: boolean;
};

const SESSION_USER_SELECT = { id: true, email: true, name: true, isAdmin: true, disabled: true, passwordChangedAt: true } as const;

/**
 * The user behind a sign-in, if it may still act: the account exists, is not disabled, and
 * its password has not changed since the sign-in (`signedInAt`, ms since the epoch).
 */
export async function loadActiveUser(userId: string, signedInAt: number | undefined): Promise<TSessionUser | null> {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) return null;
  const user = await db().user.findUnique({ where: { id: userId }, select: SESSION_USER_SELECT });
  if (!user || user.disabled) return null;
  if (user.passwordChangedAt && (signedInAt ?? 0) < user.passwordChangedAt.getTime()) return null;
  return { id: user.id, email: user.email, name: user.name, isAdmin: user.isAdmin };
}

/** The signed-in user of this request, checked against the database (once per request). */
export const getSessionUser = cache(async (): Promise<TSessionUser | null> => {
  const session = await getServerSession(authOptions);
  const uid = session?.user?.id;
  if (!uid) return null;
  return loadActiveUser(uid, session.signedInAt);
});

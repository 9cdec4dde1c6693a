import "server-only";
import type { NextAuthOptions } from "next-auth";
import type { OAuthConfig } from "next-auth/providers/oauth";
import CredentialsProvider from "next-auth/providers/credentials";
import { ZSignInSchema } from "@/lib/forms";
import { env } from "@/env";
import { safeCallbackPath } from "@/lib/callback-url";
import { db } from "@/server/db";
import { clientIp } from "./client-ip";
import { signInWithPassword } from "./sign-in-with-password";

/** Error codes the sign-in page turns into sentences (never saying which part was wrong). */
const SIGN_IN_ERRORS = {
  invalid: "invalid",
  rateLimited: "rate_limited",
} as const;

/**
 * The credentials provider's check: the client address comes from the connection (and the
 * trusted proxies' X-Forwarded-For), never from what the client claims.
 */
export async function authorizeCredentials(credentials: Record<string, unknown> | undefined, headers: Parameters<typeof clientIp>[0]) {
  const parsed = ZSignInSchema.safeParse(credentials ?? {});
  if (!parsed.success) throw new Error(SIGN_IN_ERRORS.invalid);
  const result = await signInWithPassword({ ...parsed.data, ip: clientIp(headers) });
  if (!result.ok) throw new Error(result.reason === "rate_limited" ? SIGN_IN_ERRORS.rateLimited : SIGN_IN_ERRORS.invalid);
  return { id: result.user.id, email: result.user.email, name: result.user.name };
}

type TOidcProfile = { sub: string; email?: string; email_verified?: boolean; name?: string; preferred_username?: string };

function oidcProvider(): OAuthConfig<TOidcProfile> | null {
  if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET) return null;
  return {
    id: "oidc",
    name: env.OIDC_NAME ?? "Single sign-on",
    type: "oauth",
    wellKnown: `${env.OIDC_ISSUER.replace(/\/$/, "")}/.well-known/openid-configuration`,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    profile: (profile) => ({
      id: profile.sub,
      email: profile.email?.toLowerCase() ?? null,
      name: profile.name ?? profile.preferred_username ?? profile.email ?? profile.sub,
    }),
  };
}

export const authOptions: NextAuthOptions = {
  secret: env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: 7 * 24 * 60 * 60 },
  pages: { signIn: "/sign-in", error: "/sign-in" },
  providers: [
    CredentialsProvider({
      id: "credentials",
      name: "Email and password",
      credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
      authorize: (credentials, req) => authorizeCredentials(credentials, req.headers ?? {}),
    }),
    ...(oidcProvider() ? [oidcProvider()!] : []),
  ],
  callbacks: {
    /** next-auth's own redirects (SSO, sign-out) follow the same rule as the sign-in page. */
    redirect({ url, baseUrl }) {
      const path = url.startsWith(`${baseUrl}/`) ? url.slice(baseUrl.length) : url;
      return `${baseUrl}${safeCallbackPath(path)}`;
    },
    /** SSO lets in only people who already have an account here (invited by an admin). */
    async signIn({ user, account, profile }) {
      if (account?.provider !== "oidc") return true;
      const verified = (profile as TOidcProfile | undefined)?.email_verified !== false;
      if (!user.email || !verified) return false;
      const existing = await db().user.findUnique({ where: { email: user.email.toLowerCase() }, select: { disabled: true } });
      return Boolean(existing && !existing.disabled);
    },
    async jwt({ token, user, account }) {
      if (user && account) {
        if (account.provider === "oidc") {
          const existing = await db().user.findUnique({ where: { email: (user.email ?? "").toLowerCase() }, select: { id: true } });
          token.uid = existing?.id;
        } else {
          token.uid = user.id;
        }
        token.signedInAt = Date.now();
      }
      return token;
    },
    async session({ session, token }) {
      return {
        ...session,
        user: { ...session.user, id: token.uid },
        signedInAt: token.signedInAt,
      };
    },
  },
};

/**
 * Project roles, safe for client and server. Each role can do what the roles below it can:
 * viewers browse (lists, file names, sizes, device data, never file contents), members also
 * read file contents (previews and downloads alike) and request captures, admins manage
 * devices and sessions and read the audit log, owners manage members.
 */
export const ROLES = ["viewer", "member", "admin", "owner"] as const;
export type TRole = (typeof ROLES)[number];

const RANK: Record<TRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

export function hasRole(role: TRole | null | undefined, required: TRole): boolean {
  return role != null && RANK[role] >= RANK[required];
}

export const ROLE_LABEL: Record<TRole, string> = {
  viewer: "Viewer",
  member: "Member",
  admin: "Admin",
  owner: "Owner",
};

export const ROLE_DESCRIPTION: Record<TRole, string> = {
  viewer: "Browses sessions, devices and file lists (names, sizes, device data)",
  member: "Also previews and downloads files and whole sessions, and asks devices for captures",
  admin: "Also manages devices and sessions, reads the audit log",
  owner: "Also manages members and their roles",
};

/** What each capability of the dashboard needs. */
export const CAN = {
  browse: "viewer",
  /**
   * The bytes of a file in any form: previews (inline images, players, text and JSON), downloads,
   * session zips. One rule for all of them (docs/dashboard.md, "Who may read file contents").
   */
  download: "member",
  capture: "member",
  manageDevices: "admin",
  manageSessions: "admin",
  readAudit: "admin",
  /** Create, list and revoke the project's API tokens (docs/api.md). */
  manageApiTokens: "admin",
  manageMembers: "owner",
} as const satisfies Record<string, TRole>;

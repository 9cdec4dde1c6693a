/** Cookie with the last project visited: the navigation shows it on /account and /admin. */
export const LAST_PROJECT_COOKIE = "fleetdrop-project";

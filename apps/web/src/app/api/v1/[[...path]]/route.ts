import { notFoundRoute } from "@/server/api/api-route";

/**
 * Any path below /api/v1 that no route serves: a problem+json 404 for every method, like the
 * API's other errors, rather than the dashboard's HTML page. Routes with a path of their own
 * take precedence over this one.
 */
export const { GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE } = notFoundRoute();

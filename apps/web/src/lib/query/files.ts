import { FILE_QUERY_DEFAULTS, toSearch, type TFileListQuery } from "@/lib/list-queries";

/** Where the browser reads a session's file list (the same domain function as the page). */
export function filesListUrl(project: string, sessionId: number, query: TFileListQuery): string {
  return `/api/p/${encodeURIComponent(project)}/sessions/${sessionId}/files${toSearch(query, FILE_QUERY_DEFAULTS)}`;
}

export function fileContentUrl(project: string, fileId: string, disposition: "inline" | "attachment"): string {
  return `/api/p/${encodeURIComponent(project)}/files/${fileId}/${disposition === "inline" ? "content" : "download"}`;
}

import type { TFileListQuery } from "@/lib/list-queries";

/** Typed query-key factories: invalidate a session's files with `filesKeys.session(p, s)`. */
export const filesKeys = {
  all: ["files"] as const,
  session: (project: string, sessionId: number) => [...filesKeys.all, project, sessionId] as const,
  list: (project: string, sessionId: number, query: TFileListQuery) => [...filesKeys.session(project, sessionId), "list", query] as const,
  text: (project: string, fileId: string) => [...filesKeys.all, project, "text", fileId] as const,
};

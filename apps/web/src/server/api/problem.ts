import "server-only";
import type { z } from "zod";
import type { TApiProblem } from "@/lib/api-v1/schemas";

/**
 * The one error shape of the REST API (`application/problem+json`: status, code, message, and
 * the invalid fields for a 400). Handlers throw ApiProblem for answers the domain errors do not
 * cover; the wrapper turns everything else into one of these too, never an HTML page.
 */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues?: TApiProblem["issues"];
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { issues?: TApiProblem["issues"]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiProblem";
    this.status = status;
    this.code = code;
    this.issues = extra.issues;
    this.headers = extra.headers;
  }
}

export function problemResponse(problem: ApiProblem): Response {
  const body: TApiProblem = { status: problem.status, code: problem.code, message: problem.message };
  if (problem.issues) body.issues = problem.issues;
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store", ...problem.headers },
  });
}

/** A zod failure as a 400 naming each field (`where: message`). */
export function invalidRequest(where: "path" | "query" | "body", error: z.ZodError): ApiProblem {
  const issues = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  return new ApiProblem(400, "invalid_request", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });
}

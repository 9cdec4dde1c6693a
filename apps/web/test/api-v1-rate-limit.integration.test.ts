/**
 * API tokens are rate limited per token (API_RATE_LIMIT_PER_MINUTE, counted in PostgreSQL so
 * every web instance shares the count): over the limit is a 429 problem with Retry-After, and
 * another token is not held back.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/server/api-tokens/manage-api-tokens";
import { authenticateApiToken } from "@/server/api/authenticate-api-token";
import { ApiProblem } from "@/server/api/problem";
import { callApi } from "./api-client";
import { contextFor, makeProject, makeUser } from "./fixtures";

const LIMIT = 5;
let ctx: ReturnType<typeof contextFor>;

beforeAll(async () => {
  process.env.API_RATE_LIMIT_PER_MINUTE = String(LIMIT);
  const admin = await makeUser();
  const project = await makeProject([{ user: admin, role: "admin" }]);
  ctx = contextFor(admin, project, "admin");
});

describe("the API rate limit", () => {
  it("answers 429 with Retry-After beyond the limit, for that token only, also when requests arrive at once", async () => {
    const busy = await createApiToken({ ctx, input: { name: "busy", scope: "read", expires: "never" } });
    const calm = await createApiToken({ ctx, input: { name: "calm", scope: "read", expires: "never" } });
    const answers = await Promise.all(Array.from({ length: LIMIT + 3 }, () => callApi("listDevices", { token: busy.token })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(LIMIT);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(3);
    for (const answer of refused) {
      expect(answer.json).toMatchObject({ status: 429, code: "rate_limited" });
      const retryAfter = Number(answer.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect((await callApi("listDevices", { token: calm.token })).status).toBe(200);
  });

  it("lets the token in again once its window has passed", async () => {
    const token = await createApiToken({ ctx, input: { name: "patient", scope: "read", expires: "never" } });
    const request = () => new Request("http://127.0.0.1/api/v1/devices", { headers: { Authorization: `Bearer ${token.token}` } });
    const start = new Date();
    for (let i = 0; i < LIMIT; i++) await authenticateApiToken(request(), start);
    const refusal = await authenticateApiToken(request(), new Date(start.getTime() + 30_000)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiProblem);
    expect(refusal).toMatchObject({ status: 429, headers: { "Retry-After": "30" } });
    await expect(authenticateApiToken(request(), new Date(start.getTime() + 60_001))).resolves.toMatchObject({
      token: { name: "patient" },
    });
  });
});

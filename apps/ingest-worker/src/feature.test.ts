/**
 * composeFeatures: one owner per operation, routes in list order, features started in list order
 * and stopped in the reverse one, each feature's jobs around its own start and stop.
 */
import { describe, expect, it } from "vitest";
import { composeFeatures, type TWorkerFeature } from "./feature";
import { createLogger } from "./logger";
import type { THandler, TRawRoute } from "./router";

const log = createLogger("silent");

const handler = <K extends "sessionOpen" | "sessionClose">(): THandler<K> => ({
  handle: () => Promise.reject(new Error("not called")),
});

const route = (name: string): TRawRoute<unknown> => ({
  match: () => null,
  responseTopic: () => name,
  describe: () => ({ name }),
  handle: () => Promise.resolve({}),
});

describe("composeFeatures", () => {
  it("answers each operation with the feature that registers it, and refuses a second one", () => {
    const open = handler<"sessionOpen">();
    const close = handler<"sessionClose">();
    const composed = composeFeatures(
      [
        { name: "a", handlers: { sessionOpen: open } },
        { name: "b", handlers: { sessionClose: close } },
      ],
      log,
    );
    expect(composed.handlers).toEqual({ sessionOpen: open, sessionClose: close });
    expect(() =>
      composeFeatures(
        [
          { name: "a", handlers: { sessionOpen: open } },
          { name: "b", handlers: { sessionOpen: handler<"sessionOpen">() } },
        ],
        log,
      ),
    ).toThrow("sessionOpen is answered by two features: a and b");
  });

  it("keeps the routes in list order, each with its filter", () => {
    const composed = composeFeatures(
      [
        { name: "a", routes: [{ route: route("a"), filter: (group) => `a/${group ?? "-"}` }] },
        { name: "none" },
        { name: "b", routes: [{ route: route("b"), filter: (group) => `b/${group ?? "-"}` }] },
      ],
      log,
    );
    expect(composed.routes.map((entry) => entry.route.responseTopic(""))).toEqual(["a", "b"]);
    expect(composed.routes.map((entry) => entry.filter("g"))).toEqual(["a/g", "b/g"]);
  });

  it("starts in list order and stops in the reverse one: jobs before start, every job (together) before any stop", async () => {
    const events: string[] = [];
    const releases: (() => void)[] = [];
    const feature = (name: string): TWorkerFeature => ({
      name,
      jobs: [
        {
          name: `${name}-job`,
          intervalMs: 60_000,
          immediate: true,
          // A run that is still going when the worker stops: stop() waits for it.
          run: () =>
            new Promise<void>((resolve) => {
              events.push(`${name} job runs`);
              releases.push(() => {
                events.push(`${name} job done`);
                resolve();
              });
            }),
        },
      ],
      start: () => void events.push(`${name} start`),
      stop: async () => void events.push(`${name} stop`),
    });
    const composed = composeFeatures([feature("first"), feature("second")], log);
    composed.start();
    expect(events).toEqual(["first job runs", "first start", "second job runs", "second start"]);
    events.length = 0;

    const stopping = composed.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Both features' job runs are in progress: nothing stops before they end.
    expect(events).toEqual([]);
    releases[1]!();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The first feature's run is still going: no feature stops yet, though the second's job is done.
    expect(events).toEqual(["second job done"]);
    releases[0]!();
    await stopping;
    expect(events).toEqual(["second job done", "first job done", "second stop", "first stop"]);
  });

  it("stops nothing twice", async () => {
    let stops = 0;
    const composed = composeFeatures(
      [
        {
          name: "a",
          stop: async () => {
            stops++;
          },
        },
      ],
      log,
    );
    composed.start();
    await composed.stop();
    await composed.stop();
    expect(stops).toBe(1);
  });
});

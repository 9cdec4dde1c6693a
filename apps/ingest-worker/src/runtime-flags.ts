/**
 * Node/V8 flags the worker runs with, wherever it is started (the container's CMD, `npm start`,
 * the benchmarks). Keep deploy/docker/Dockerfile's worker CMD in step with this list.
 *
 * `--max-semi-space-size=64`: every request allocates short-lived objects (the JSON, the form,
 * the answer); with V8's default 16 MB young generation a profile of the worker at 200 devices
 * showed ~12 % of its time in GC. A larger young generation scavenges less often and promotes
 * less request garbage, for at most ~100 MB more memory. In one A/B run (flag on every process
 * of `npm run bench -- upload-requests`, 2026-11-23) the worker's CPU per request went from
 * 50–59 µs to 44–48 µs; the run-to-run noise on these 2-core machines is of the same order.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

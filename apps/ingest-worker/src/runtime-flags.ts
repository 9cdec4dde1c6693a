/**
 * Node/V8 flags the worker runs with, wherever it is started (the container's CMD, this
 * package's `start` script, `npm start`, the benchmarks). runtime-flags.test.ts checks that the
 * Dockerfile's worker CMD and the `start` script carry every one of them.
 *
 * `--max-semi-space-size=64`: every request allocates short-lived objects (the JSON, the form,
 * the answer); with V8's default 16 MB young generation a profile of the worker at 200 devices
 * showed ~12 % of its time in GC. A larger young generation scavenges less often and promotes
 * less request garbage, for at most ~100 MB more memory. In one A/B run (flag on every process
 * of `npm run bench -- upload-requests`, 2026-11-23) the worker's CPU per request went from
 * 50–59 µs to 44–48 µs; the run-to-run noise on these 2-core machines is of the same order.
 *
 * `--heap-growing-percent=300`: the old generation may grow to 4× what survived the last full
 * GC before the next one (V8 otherwise picks the factor from how fast the program allocates on
 * the JS heap). A file_transfer allocates little on the JS heap and a lot outside it (segment
 * buffers). V8 then chose its smallest factor, 1.1, and workers fell into running a full GC every
 * 30–60 ms, transfer after transfer, each marking started again right after the last full GC
 * with 39–45 MB still free below the limit (`--trace-gc --trace-incremental-marking`). A/B,
 * 2026-11-24, `npm run bench -- mqtt-transfer --runs 5 --staging files`, two invocations each:
 * without the flag 11 of 20 transfers had such storms (256 KiB segments: 261–377 MB/s), with it
 * none of 40 (355–461 MB/s); a 32 MB young generation instead left 3 of 20. The core flow runs
 * fewer full GCs with it and the same latencies (docs/benchmarks.md).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64", "--heap-growing-percent=300"];

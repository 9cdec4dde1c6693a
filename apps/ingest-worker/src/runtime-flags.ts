/**
 * Node/V8 flags the worker runs with, wherever it is started (the container's CMD, this
 * package's `start` script, `npm start`, the benchmarks). runtime-flags.test.ts checks that the
 * Dockerfile's worker CMD and the `start` script carry every one of them.
 *
 * `--max-semi-space-size=64`: every request allocates short-lived objects (the JSON, the form,
 * the answer); with V8's default 16 MB young generation a profile of the worker at 200 devices
 * shows ~12 % of its time in GC. A larger young generation scavenges less often and promotes
 * less request garbage, for at most ~100 MB more memory (`npm run bench -- upload-requests`
 * shows the CPU per request).
 *
 * `--heap-growing-percent=300`: the old generation may grow to 4× what survived the last full
 * GC before the next one (V8 otherwise picks the factor from how fast the program allocates on
 * the JS heap). A file_transfer allocates little on the JS heap and a lot outside it (segment
 * buffers). V8 then chooses its smallest factor, 1.1, and the worker falls into a full GC every
 * 30–60 ms, transfer after transfer, each marking starting again right after the last full GC
 * with 39–45 MB still free below the limit (`--trace-gc --trace-incremental-marking`). Such
 * storms cost a transfer about a quarter of its rate (`npm run bench -- mqtt-transfer`); a 32 MB
 * young generation does not prevent them. The core flow runs fewer full GCs with the flag and the
 * same latencies (docs/benchmarks.md).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64", "--heap-growing-percent=300"];

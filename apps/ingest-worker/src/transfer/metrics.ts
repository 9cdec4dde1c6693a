/** Prometheus metrics of file transfers over MQTT, on the worker's registry. */
import { Counter, Histogram, type Registry } from "prom-client";

export type TTransferMetrics = ReturnType<typeof createTransferMetrics>;

export function createTransferMetrics(registry: Registry) {
  return {
    segmentBytes: new Counter({
      name: "fleetdrop_transfer_segment_bytes_total",
      help: "Bytes of file-transfer segments staged durably",
      registers: [registry],
    }),
    batchBytes: new Histogram({
      name: "fleetdrop_transfer_segment_batch_bytes",
      help: "Segment bytes written per database commit (group commit)",
      buckets: [65536, 262144, 1048576, 4194304, 8388608, 16777216],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: "fleetdrop_transfer_segment_batch_seconds",
      help: "Time to stage one batch of segments (one statement, one commit)",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    finished: new Counter({
      name: "fleetdrop_transfers_finished_total",
      help: "fin commands by outcome (stored, incomplete, checksum_mismatch, …)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    assembleDuration: new Histogram({
      name: "fleetdrop_transfer_assemble_seconds",
      help: "Time to assemble, verify and store a transferred file",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    cleanedUp: new Counter({
      name: "fleetdrop_transfers_expired_total",
      help: "Incomplete transfers removed after TRANSFER_TTL",
      registers: [registry],
    }),
  };
}

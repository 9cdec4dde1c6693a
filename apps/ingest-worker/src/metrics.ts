/** Prometheus metrics of the worker, served on /metrics. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type TWorkerMetrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fleetdrop_worker_" });

  const requests = new Counter({
    name: "fleetdrop_requests_total",
    help: "Device requests handled, by kind, outcome (ok|error) and error code",
    labelNames: ["kind", "outcome", "code"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "fleetdrop_request_duration_seconds",
    help: "Time from receiving a device request to publishing its response",
    labelNames: ["kind"] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "fleetdrop_db_batch_size",
    help: "Upload requests validated and recorded per database round trip",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: "fleetdrop_db_batch_duration_seconds",
    help: "Round trip of one batch of upload requests to the database",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const pendingFiles = new Gauge({
    name: "fleetdrop_pending_files",
    help: "Files whose upload form was issued and not yet seen in storage",
    registers: [registry],
  });
  const filesCompleted = new Counter({
    name: "fleetdrop_files_completed_total",
    help: "Files that left the pending state, by new state and by what noticed it",
    labelNames: ["state", "via"] as const,
    registers: [registry],
  });
  const brokerConnected = new Gauge({
    name: "fleetdrop_broker_connected",
    help: "1 while the MQTT connection is up",
    registers: [registry],
  });

  const brokerDisconnects = new Counter({
    name: "fleetdrop_broker_disconnects_total",
    help:
      "MQTT disconnects the worker did not ask for, by reason " +
      "(taken_over: another connection with the worker's client id; broker_disconnect; connection_lost)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });

  return { registry, requests, latency, batchSize, batchDuration, pendingFiles, filesCompleted, brokerConnected, brokerDisconnects };
}

/**
 * How a rule's files travel. Each transport is one implementation of TTransport, chosen per rule
 * by name; the agent owns retries, back-off and resume state, a transport sends one file once.
 * - `https`: one presigned POST form (docs/protocol.md#file_uploadrequest) up to
 *   MULTIPART_ABOVE_BYTES, a resumable multipart upload (docs/protocol.md#file_uploadmultipartcreate)
 *   above, as `fleetdrop-device upload` chooses;
 * - `mqtt`: segments over the MQTT connection (docs/protocol.md#file_transfer), resumed from the
 *   ranges the platform holds after a disconnect or a restart.
 */
import { stat } from "node:fs/promises";
import type { FleetdropDevice } from "../client";
import type { TRANSPORT_NAMES } from "./config";

export type TTransportName = (typeof TRANSPORT_NAMES)[number];

export type TUploadJob = {
  sessionId: number;
  /** The local file. */
  path: string;
  /** Its name in the session. */
  name: string;
  /** Replace a stored file of the same name (a new version of a file sent before). */
  overwrite: boolean;
  /** Stable for one attempt: a request sent again after a lost answer is the same request. */
  requestId: string;
  /** Where a resumable transport keeps what it needs to continue after a restart. */
  stateFile: string;
  throttle?: (bytes: number) => Promise<void>;
};

export type TUploadOutcome = { fileId: string; objectKey: string; size: number };

export type TTransport = {
  readonly name: TTransportName;
  /** Whether it can replace a stored file of the same name. */
  readonly canOverwrite: boolean;
  upload(device: FleetdropDevice, job: TUploadJob): Promise<TUploadOutcome>;
};

/** Above this a file goes in parts, the same default as `fleetdrop-device upload --multipart-above`. */
export const MULTIPART_ABOVE_BYTES = 100 * 1024 * 1024;

const https: TTransport = {
  name: "https",
  canOverwrite: true,
  async upload(device, job) {
    if ((await stat(job.path)).size > MULTIPART_ABOVE_BYTES) {
      // After a restart, parts storage already holds are not sent again: the state file keeps the upload's id.
      const result = await device.uploadMultipart(job.path, {
        session: job.sessionId,
        filename: job.name,
        overwrite: job.overwrite,
        statePath: job.stateFile,
        throttle: job.throttle,
      });
      return { fileId: result.fileId, objectKey: result.objectKey, size: result.size };
    }
    const result = await device.uploadFile({
      sessionId: job.sessionId,
      path: job.path,
      filename: job.name,
      overwrite: job.overwrite,
      requestId: job.requestId,
      // The platform records that the file came through the agent (the file's page says so).
      via: "agent",
      // One fresh form when storage refuses an expired one; the agent retries the rest.
      attempts: 2,
      throttle: job.throttle,
    });
    return { fileId: result.fileId, objectKey: result.objectKey, size: result.size };
  },
};

const mqtt: TTransport = {
  name: "mqtt",
  canOverwrite: true,
  async upload(device, job) {
    const result = await device.uploadOverMqtt({
      sessionId: job.sessionId,
      path: job.path,
      filename: job.name,
      overwrite: job.overwrite,
      stateFile: job.stateFile,
      attempts: 2,
      throttle: job.throttle,
    });
    return { fileId: result.fileId, objectKey: result.objectKey, size: result.size };
  },
};

export const TRANSPORTS: Record<TTransportName, TTransport> = { https, mqtt };

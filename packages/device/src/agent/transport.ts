/**
 * How a rule's files travel. Each transport is one implementation of TTransport, chosen per rule
 * by name; the agent owns retries, back-off and resume state, a transport sends one file once.
 * - `https`: one presigned POST form (docs/protocol.md#file_uploadrequest), up to the platform's
 *   MAX_UPLOAD_MB;
 * - `mqtt`: segments over the MQTT connection (docs/protocol.md#file_transfer), resumed from the
 *   ranges the platform holds after a disconnect or a restart.
 * Another transport (multipart over HTTPS) adds a name to TRANSPORT_NAMES and an entry here.
 */
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

const https: TTransport = {
  name: "https",
  canOverwrite: true,
  async upload(device, job) {
    const result = await device.uploadFile({
      sessionId: job.sessionId,
      path: job.path,
      filename: job.name,
      overwrite: job.overwrite,
      requestId: job.requestId,
      // One fresh form when storage refuses an expired one; the agent retries the rest.
      attempts: 2,
      throttle: job.throttle,
    });
    return { fileId: result.fileId, objectKey: result.objectKey, size: result.size };
  },
};

const mqtt: TTransport = {
  name: "mqtt",
  canOverwrite: false,
  async upload(device, job) {
    const result = await device.uploadOverMqtt({
      sessionId: job.sessionId,
      path: job.path,
      filename: job.name,
      stateFile: job.stateFile,
      attempts: 2,
      throttle: job.throttle,
    });
    return { fileId: result.fileId, objectKey: result.objectKey, size: result.size };
  },
};

export const TRANSPORTS: Record<TTransportName, TTransport> = { https, mqtt };

/**
 * The S3 clients of one S3 store, all from the same settings:
 * - control: head/list/open/delete/ping and small puts. Fails fast (3 s to connect, 15 s until
 *   the response headers, 3 attempts): a device is waiting on most of these.
 * - transfer: streamed puts, which may take long; no overall deadline, but a socket that stays
 *   idle for 30 s fails the request.
 * - presign: never sends a request. Its endpoint resolution is memoised per bucket (it only
 *   resolves PutObject/GetObject endpoints, whose rules depend on the bucket, not the key).
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { S3ClientConfig } from "@aws-sdk/client-s3";

export type TS3ConnectionOptions = {
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
};

export type TS3Timeouts = {
  connectionTimeoutMs: number;
  /** Until the response headers of a control request. */
  requestTimeoutMs: number;
  /** A transfer whose socket is idle this long fails. */
  transferIdleTimeoutMs: number;
  maxAttempts: number;
};

export const DEFAULT_S3_TIMEOUTS: TS3Timeouts = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 15_000,
  transferIdleTimeoutMs: 30_000,
  maxAttempts: 3,
};

export type TS3Clients = { control: S3Client; transfer: S3Client; presign: S3Client };

export function createS3Clients(options: TS3ConnectionOptions, timeouts: TS3Timeouts = DEFAULT_S3_TIMEOUTS): TS3Clients {
  const agent = { keepAlive: true, maxSockets: 64 };
  const base: S3ClientConfig = {
    region: options.region,
    maxAttempts: timeouts.maxAttempts,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
    // Without keys the SDK's default chain applies (environment, profile, instance role...).
    ...(options.accessKeyId !== undefined && options.secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId: options.accessKeyId,
            secretAccessKey: options.secretAccessKey,
            ...(options.sessionToken !== undefined ? { sessionToken: options.sessionToken } : {}),
          },
        }
      : {}),
    // S3-compatible servers often lack the newer default checksums (aws-chunked uploads with
    // trailing CRCs); compute them only when an operation requires one.
    ...(options.endpoint !== undefined
      ? { requestChecksumCalculation: "WHEN_REQUIRED" as const, responseChecksumValidation: "WHEN_REQUIRED" as const }
      : {}),
  };
  const control = new S3Client({
    ...base,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
  const transfer = new S3Client({
    ...base,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      socketTimeout: timeouts.transferIdleTimeoutMs,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
  const presign = new S3Client(base);
  presign.config.endpointProvider = memoiseEndpointPerBucket(presign.config.endpointProvider);
  return { control, transfer, presign };
}

/**
 * Caches the endpoint resolved for each bucket. The SDK caches rule evaluation too, but still
 * builds and hashes a cache key on every call; for presigning (PutObject/GetObject, whose
 * endpoint depends on the bucket and the client's fixed settings only) one lookup suffices.
 */
export function memoiseEndpointPerBucket<P extends { Bucket?: unknown }, C, R>(
  resolve: (params: P, context?: C) => R,
): (params: P, context?: C) => R {
  const byBucket = new Map<string, R>();
  return (params, context) => {
    const bucket = params.Bucket;
    if (typeof bucket !== "string") return resolve(params, context);
    let endpoint = byBucket.get(bucket);
    if (endpoint === undefined) {
      endpoint = resolve(params, context);
      byBucket.set(bucket, endpoint);
    }
    return endpoint;
  };
}

import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, describe, expect, it } from "vitest";

import { parseQueryString } from "./http-reply";
import { presignUrl, verifyPresignedUrl } from "./presigned-url";
import { S3ProtocolError } from "./s3-protocol-error";

const ACCESS_KEY = "FLEETDROPTESTKEY";
const SECRET = "fleetdrop-test-secret-0123456789";
const REGION = "us-east-1";
const lookupCredentials = (id: string) => (id === ACCESS_KEY ? { secretAccessKey: SECRET, region: REGION } : undefined);
const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET };

/** Verifies a URL the way the endpoint does: decoded path, decoded query pairs, Host header. */
function verifyUrl(url: string, options: { method?: string; methods?: string[]; host?: string; now?: number } = {}) {
  const parsed = new URL(url);
  const rawQuery = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
  return verifyPresignedUrl({
    methods: options.methods ?? [options.method ?? "GET"],
    path: decodeURIComponent(parsed.pathname),
    query: parseQueryString(rawQuery),
    headers: { host: options.host ?? parsed.host },
    lookupCredentials,
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
}

function refusal(run: () => unknown): S3ProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof S3ProtocolError) return error;
    throw error;
  }
  throw new Error("expected the URL to be refused");
}

function fsUrl(overrides: { path?: string; query?: Record<string, string>; now?: Date; expiresIn?: number } = {}): string {
  return presignUrl({
    origin: "http://127.0.0.1:9000",
    path: overrides.path ?? "/fs/uploads/sessions/ROBOT-1/7/logs/system log (1).txt",
    region: REGION,
    credentials,
    expiresIn: overrides.expiresIn ?? 600,
    ...(overrides.query ? { query: overrides.query } : {}),
    ...(overrides.now ? { now: overrides.now } : {}),
  });
}

describe("presignUrl matches AWS", () => {
  it("reproduces the signature of AWS's query-string authentication example", () => {
    // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", example GET.
    const url = presignUrl({
      origin: "https://examplebucket.s3.amazonaws.com",
      path: "/test.txt",
      region: "us-east-1",
      credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      expiresIn: 86400,
      now: new Date("2013-05-24T00:00:00Z"),
    });
    expect(new URL(url).searchParams.get("X-Amz-Signature")).toBe("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  });

  describe("against the AWS SDK's getSignedUrl", () => {
    const sdk = new S3Client({ region: REGION, endpoint: "http://127.0.0.1:9000/fs", forcePathStyle: true, credentials });
    afterAll(() => sdk.destroy());
    const key = "sessions/ROBOT-1/7/logs/système (1).txt";
    const disposition = "attachment; filename=\"syst_me (1).txt\"; filename*=UTF-8''syst%C3%A8me%20%281%29.txt";

    it("verifies a URL the SDK signed for the fs endpoint", async () => {
      const url = await getSignedUrl(sdk, new GetObjectCommand({ Bucket: "uploads", Key: key, ResponseContentDisposition: disposition }), {
        expiresIn: 300,
      });
      const verified = verifyUrl(url);
      expect(verified.accessKeyId).toBe(ACCESS_KEY);
      expect(verified.overrides["response-content-disposition"]).toBe(disposition);
    });

    it("signs exactly as the SDK for the same request and time", async () => {
      const signingDate = new Date("2025-03-01T12:00:00Z");
      const sdkUrl = await getSignedUrl(
        sdk,
        new GetObjectCommand({ Bucket: "uploads", Key: key, ResponseContentDisposition: disposition, ResponseContentType: "text/plain" }),
        { expiresIn: 300, signingDate },
      );
      const sdkQuery = new URL(sdkUrl).searchParams;
      // The SDK also signs x-id, X-Amz-Content-Sha256 and x-amz-checksum-mode: sign the same set.
      const generated = new Set([
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
      ]);
      const query = Object.fromEntries([...sdkQuery].filter(([name]) => !generated.has(name)));
      expect(query).toMatchObject({ "response-content-disposition": disposition, "response-content-type": "text/plain" });
      const ours = presignUrl({
        origin: "http://127.0.0.1:9000",
        path: `/fs/uploads/${key}`,
        region: REGION,
        credentials,
        expiresIn: 300,
        now: signingDate,
        query,
      });
      expect(new URL(ours).searchParams.get("X-Amz-Signature")).toBe(sdkQuery.get("X-Amz-Signature"));
    });
  });
});

describe("verifyPresignedUrl", () => {
  it("accepts its own URLs and returns the signed overrides", () => {
    const verified = verifyUrl(fsUrl({ query: { "response-content-type": "text/plain" } }));
    expect(verified.overrides).toEqual({ "response-content-type": "text/plain" });
  });

  it("accepts HEAD with a URL signed for GET only when allowed", () => {
    const url = fsUrl();
    expect(verifyUrl(url, { methods: ["HEAD", "GET"] }).accessKeyId).toBe(ACCESS_KEY);
    expect(refusal(() => verifyUrl(url, { method: "DELETE" })).code).toBe("SignatureDoesNotMatch");
  });

  it("refuses a tampered signature, path, parameter or host", () => {
    const url = fsUrl({ query: { "response-content-disposition": "attachment" } });
    const signature = new URL(url).searchParams.get("X-Amz-Signature") as string;
    const flipped = (signature[0] === "a" ? "b" : "a") + signature.slice(1);
    expect(refusal(() => verifyUrl(url.replace(signature, flipped))).code).toBe("SignatureDoesNotMatch");
    expect(refusal(() => verifyUrl(url.replace("system", "secret"))).code).toBe("SignatureDoesNotMatch");
    expect(
      refusal(() => verifyUrl(url.replace("response-content-disposition=attachment", "response-content-disposition=inline"))).code,
    ).toBe("SignatureDoesNotMatch");
    expect(refusal(() => verifyUrl(`${url}&response-content-type=text%2Fhtml`)).code).toBe("SignatureDoesNotMatch");
    expect(refusal(() => verifyUrl(url, { host: "evil.example:9000" })).code).toBe("SignatureDoesNotMatch");
  });

  it("refuses an expired URL and one dated in the future", () => {
    const past = fsUrl({ now: new Date(Date.now() - 3600 * 1000), expiresIn: 60 });
    expect(refusal(() => verifyUrl(past))).toMatchObject({ status: 403, code: "AccessDenied", message: "Request has expired" });
    const future = fsUrl({ now: new Date(Date.now() + 3600 * 1000) });
    expect(refusal(() => verifyUrl(future))).toMatchObject({ status: 403, code: "AccessDenied" });
  });

  it("refuses unknown access keys and missing or malformed parameters", () => {
    const url = fsUrl();
    expect(refusal(() => verifyUrl(url.replace(ACCESS_KEY, "SOMEONEELSE"))).code).toBe("InvalidAccessKeyId");
    expect(refusal(() => verifyUrl(url.replace(/&X-Amz-Expires=\d+/, ""))).code).toBe("AuthorizationQueryParametersError");
    expect(refusal(() => verifyUrl(url.replace(/X-Amz-Expires=\d+/, "X-Amz-Expires=604801"))).code).toBe(
      "AuthorizationQueryParametersError",
    );
    expect(refusal(() => verifyUrl(url.split("?")[0] as string))).toMatchObject({ status: 403, code: "AccessDenied" });
    expect(refusal(() => verifyUrl(`${url}&X-Amz-Date=20250101T000000Z`)).code).toBe("AuthorizationQueryParametersError");
  });

  it("refuses to sign for longer than seven days", () => {
    expect(() => fsUrl({ expiresIn: 604801 })).toThrow(/604800/);
  });
});

import { S3Client } from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { afterAll, describe, expect, it } from "vitest";

import { createPostForm, signPostPolicy, verifyPostForm } from "./post-policy";
import type { TPostPolicyDocument, TVerifyPostFormInput } from "./post-policy";
import { S3ProtocolError } from "./s3-protocol-error";
import { toAmzDate } from "./sigv4/amz-date";
import { signingKey } from "./sigv4/signing-key";

const ACCESS_KEY = "FLEETDROPTESTKEY";
const SECRET = "fleetdrop-test-secret-0123456789";
const REGION = "us-east-1";
const BUCKET = "uploads";
const KEY = "sessions/ROBOT-ABC123/123/image_001.jpg";
const lookupCredentials = (id: string) => (id === ACCESS_KEY ? { secretAccessKey: SECRET, region: REGION } : undefined);

function verify(fields: Record<string, string> | Array<[string, string]>, overrides: Partial<TVerifyPostFormInput> = {}) {
  return verifyPostForm({
    fields: Array.isArray(fields) ? fields : Object.entries(fields),
    bucket: BUCKET,
    lookupCredentials,
    ...overrides,
  });
}

/** The S3 error a verification throws, or a failure when it does not throw one. */
function refusal(run: () => unknown): S3ProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof S3ProtocolError) return error;
    throw error;
  }
  throw new Error("expected the form to be refused");
}

function form(now = new Date()) {
  return createPostForm({
    bucket: BUCKET,
    key: KEY,
    contentType: "image/jpeg",
    maxBytes: 5 * 1024 * 1024,
    expiresIn: 3600,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
    now,
  });
}

/** A form for an arbitrary policy text, correctly signed with the test credentials. */
function signedForm(policyText: string, fields: Record<string, string> = {}, now = new Date()): Record<string, string> {
  const amzDate = toAmzDate(now);
  return {
    key: KEY,
    ...fields,
    policy: policyText,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": `${ACCESS_KEY}/${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`,
    "x-amz-date": amzDate,
    "x-amz-signature": signPostPolicy(policyText, SECRET, amzDate.slice(0, 8), REGION),
  };
}

/** A policy with arbitrary conditions (also ones the typed builder would not write). */
function policyFor(conditions: unknown[], now = new Date(), expiresIn = 3600): string {
  const amzDate = toAmzDate(now);
  return encodeRawPolicy({
    expiration: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    conditions: [
      ...conditions,
      { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
      { "x-amz-credential": `${ACCESS_KEY}/${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request` },
      { "x-amz-date": amzDate },
    ],
  });
}

function encodeRawPolicy(document: unknown): string {
  return Buffer.from(JSON.stringify(document), "utf8").toString("base64");
}

describe("SigV4 POST signing matches AWS's published example", () => {
  // "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)".
  const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const awsPolicy = [
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1w",
    "bGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAg",
    "IHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2Fk",
    "Lmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUx",
    "MjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXot",
    "bWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3",
    "czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlU",
    "MDAwMDAwWiIgfQ0KICBdDQp9",
  ].join("");

  it("derives the documented signing key and signature", () => {
    expect(signingKey(awsSecret, "20151229", "us-east-1").toString("hex")).toBe(
      "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28",
    );
    expect(signPostPolicy(awsPolicy, awsSecret, "20151229", "us-east-1")).toBe(
      "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e",
    );
  });

  it("verifies AWS's example form (with its capitalised field names) while the policy is valid", () => {
    const verified = verifyPostForm({
      fields: [
        ["key", "user/user1/photo.jpg"],
        ["acl", "public-read"],
        ["success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"],
        ["Content-Type", "image/jpeg"],
        ["x-amz-meta-uuid", "14365123651274"],
        ["x-amz-server-side-encryption", "AES256"],
        ["X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"],
        ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
        ["X-Amz-Date", "20151229T000000Z"],
        ["x-amz-meta-tag", ""],
        ["Policy", awsPolicy],
        ["X-Amz-Signature", "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"],
      ],
      bucket: "sigv4examplebucket",
      lookupCredentials: (id) => (id === "AKIAIOSFODNN7EXAMPLE" ? { secretAccessKey: awsSecret, region: "us-east-1" } : undefined),
      now: Date.parse("2015-12-30T11:00:00Z"),
    });
    expect(verified.key).toBe("user/user1/photo.jpg");
    expect(verified.contentType).toBe("image/jpeg");
  });
});

describe("S3 compatibility with the AWS SDK's createPresignedPost", () => {
  const sdk = new S3Client({
    region: REGION,
    endpoint: "http://127.0.0.1:9000/fs",
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
  });
  afterAll(() => sdk.destroy());

  async function sdkForm() {
    return createPresignedPost(sdk, {
      Bucket: BUCKET,
      Key: KEY,
      Conditions: [["content-length-range", 0, 1024], { "Content-Type": "image/jpeg" }],
      Fields: { "Content-Type": "image/jpeg" },
      Expires: 600,
    });
  }

  it("verifies a form the SDK made, posted to the fs endpoint's URL", async () => {
    const { url, fields } = await sdkForm();
    expect(url).toBe(`http://127.0.0.1:9000/fs/${BUCKET}`);
    const verified = verify(fields);
    expect(verified).toMatchObject({ accessKeyId: ACCESS_KEY, key: KEY, contentType: "image/jpeg", contentLength: { min: 0, max: 1024 } });
  });

  it("computes the same signature as the SDK for the same policy document", async () => {
    const { fields } = await sdkForm();
    const policy = fields.Policy as string;
    const date = (fields["X-Amz-Date"] as string).slice(0, 8);
    expect(signPostPolicy(policy, SECRET, date, REGION)).toBe(fields["X-Amz-Signature"]);
  });

  it("refuses an SDK form whose key was changed", async () => {
    const { fields } = await sdkForm();
    const error = refusal(() => verify({ ...fields, key: "sessions/ROBOT-ABC123/123/other.jpg" }));
    expect([error.status, error.code]).toEqual([403, "AccessDenied"]);
  });
});

describe("createPostForm", () => {
  it("returns the protocol's fields in order, lower-case signature names, no bucket", () => {
    const { fields } = form();
    expect(Object.keys(fields)).toEqual([
      "key",
      "Content-Type",
      "policy",
      "x-amz-algorithm",
      "x-amz-credential",
      "x-amz-date",
      "x-amz-signature",
    ]);
    expect(fields.key).toBe(KEY);
    expect(fields["x-amz-algorithm"]).toBe("AWS4-HMAC-SHA256");
  });

  it("pins bucket, exact key, exact Content-Type, [0, max] and every x-amz field", () => {
    const now = new Date("2025-01-12T10:30:00.123Z");
    const { fields, policy } = form(now);
    const decoded = JSON.parse(Buffer.from(fields.policy as string, "base64").toString("utf8")) as TPostPolicyDocument;
    expect(decoded).toEqual(policy);
    expect(decoded.expiration).toBe("2025-01-12T11:30:00Z");
    expect(decoded.conditions).toEqual([
      { bucket: BUCKET },
      { key: KEY },
      { "Content-Type": "image/jpeg" },
      ["content-length-range", 0, 5 * 1024 * 1024],
      { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
      { "x-amz-credential": `${ACCESS_KEY}/20250112/${REGION}/s3/aws4_request` },
      { "x-amz-date": "20250112T103000Z" },
    ]);
  });

  it("adds and pins x-amz-security-token for session credentials", () => {
    const { fields, policy } = createPostForm({
      bucket: BUCKET,
      key: KEY,
      contentType: "image/jpeg",
      maxBytes: 1,
      expiresIn: 60,
      region: REGION,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET, sessionToken: "token==" },
    });
    expect(fields["x-amz-security-token"]).toBe("token==");
    expect(policy.conditions).toContainEqual({ "x-amz-security-token": "token==" });
  });

  it("verifies its own form", () => {
    const verified = verify(form().fields);
    expect(verified).toMatchObject({
      key: KEY,
      contentType: "image/jpeg",
      contentLength: { min: 0, max: 5 * 1024 * 1024 },
      successActionStatus: 204,
    });
  });

  it("accepts the field names in any case", () => {
    const upper = Object.entries(form().fields).map(([name, value]) => [name.toUpperCase(), value] as [string, string]);
    expect(verify(upper).key).toBe(KEY);
  });
});

describe("verifyPostForm refuses every broken rule", () => {
  it("a tampered policy (signature no longer matches)", () => {
    const { fields } = form();
    const doc = JSON.parse(Buffer.from(fields.policy as string, "base64").toString("utf8")) as { conditions: unknown[] };
    doc.conditions[3] = ["content-length-range", 0, 10 * 1024 * 1024 * 1024];
    const error = refusal(() => verify({ ...fields, policy: Buffer.from(JSON.stringify(doc)).toString("base64") }));
    expect([error.status, error.code]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("a tampered signature", () => {
    const { fields } = form();
    const signature = fields["x-amz-signature"] as string;
    const flipped = (signature[0] === "a" ? "b" : "a") + signature.slice(1);
    expect(refusal(() => verify({ ...fields, "x-amz-signature": flipped })).code).toBe("SignatureDoesNotMatch");
  });

  it("a changed key", () => {
    const error = refusal(() => verify({ ...form().fields, key: "sessions/ROBOT-ABC123/124/image_001.jpg" }));
    expect([error.status, error.code]).toEqual([403, "AccessDenied"]);
    expect(error.message).toContain('Policy Condition failed: ["eq","$key"');
  });

  it("a changed Content-Type", () => {
    const error = refusal(() => verify({ ...form().fields, "Content-Type": "text/html" }));
    expect([error.status, error.code]).toEqual([403, "AccessDenied"]);
    expect(error.message).toContain("Content-Type");
  });

  it("a missing Content-Type the policy pins", () => {
    const fields: Record<string, string> = { ...form().fields };
    delete fields["Content-Type"];
    expect(refusal(() => verify(fields)).code).toBe("AccessDenied");
  });

  it("an extra field no condition covers, but not x-ignore-* fields", () => {
    const { fields } = form();
    const error = refusal(() => verify({ ...fields, "x-amz-meta-owner": "me" }));
    expect([error.status, error.code, error.message]).toEqual([
      403,
      "AccessDenied",
      "Invalid according to Policy: Extra input fields: x-amz-meta-owner",
    ]);
    expect(verify({ ...fields, "x-ignore-submit": "Upload" }).key).toBe(KEY);
  });

  it("an expired policy", () => {
    const issued = new Date(Date.now() - 2 * 3600 * 1000);
    const error = refusal(() => verify(form(issued).fields));
    expect([error.status, error.code, error.message]).toEqual([403, "AccessDenied", "Invalid according to Policy: Policy expired."]);
    // Still valid one second before expiry.
    expect(verify(form(issued).fields, { now: issued.getTime() + 3599 * 1000 }).key).toBe(KEY);
  });

  it("the wrong secret", () => {
    const error = refusal(() =>
      verify(form().fields, { lookupCredentials: () => ({ secretAccessKey: "another-secret-0123456789", region: REGION }) }),
    );
    expect([error.status, error.code]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("an unknown access key", () => {
    const { fields } = form();
    const credential = (fields["x-amz-credential"] as string).replace(ACCESS_KEY, "SOMEONEELSE");
    const error = refusal(() => verify({ ...fields, "x-amz-credential": credential }));
    expect([error.status, error.code]).toEqual([403, "InvalidAccessKeyId"]);
  });

  it("a credential for another region", () => {
    const { fields } = form();
    const credential = (fields["x-amz-credential"] as string).replace(REGION, "eu-west-1");
    const error = refusal(() => verify({ ...fields, "x-amz-credential": credential }));
    expect([error.status, error.code]).toEqual([400, "InvalidArgument"]);
    expect(error.message).toContain("the region 'eu-west-1' is wrong; expecting 'us-east-1'");
  });

  it("a malformed credential, date or algorithm", () => {
    const { fields } = form();
    expect(refusal(() => verify({ ...fields, "x-amz-credential": "nonsense" })).code).toBe("InvalidArgument");
    expect(refusal(() => verify({ ...fields, "x-amz-date": "2025-01-12" })).code).toBe("InvalidArgument");
    expect(refusal(() => verify({ ...fields, "x-amz-date": "20200101T000000Z" })).code).toBe("InvalidArgument");
    expect(refusal(() => verify({ ...fields, "x-amz-algorithm": "AWS4-HMAC-SHA1" })).code).toBe("InvalidArgument");
  });

  it("missing required fields", () => {
    for (const name of ["key", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"]) {
      const fields: Record<string, string> = { ...form().fields };
      delete fields[name];
      const error = refusal(() => verify(fields));
      expect([error.status, error.code], name).toEqual([400, "InvalidArgument"]);
    }
    const noPolicy: Record<string, string> = { ...form().fields };
    delete noPolicy.policy;
    expect(refusal(() => verify(noPolicy)).code).toBe("AccessDenied");
  });

  it("a field given twice", () => {
    const entries = Object.entries(form().fields);
    expect(refusal(() => verify([...entries, ["KEY", KEY]])).code).toBe("InvalidArgument");
  });

  it("malformed policies, even correctly signed", () => {
    const malformed = [
      "not base64!",
      Buffer.from("{ not json").toString("base64"),
      Buffer.from("[]").toString("base64"),
      Buffer.from(JSON.stringify({ conditions: [] })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z" })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01 00:00:00", conditions: [] })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [{ key: KEY, bucket: BUCKET }] })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [{ key: 5 }] })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [["ends-with", "$key", "x"]] })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [["content-length-range", 0, 1.5]] })).toString(
        "base64",
      ),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [["content-length-range", 10, 5]] })).toString("base64"),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [["starts-with", "$x-amz-credential", ""]] })).toString(
        "base64",
      ),
      Buffer.from(JSON.stringify({ expiration: "2099-01-01T00:00:00Z", conditions: [], statement: [] })).toString("base64"),
    ];
    for (const policy of malformed) {
      const error = refusal(() => verify(signedForm(policy)));
      expect([error.status, error.code], Buffer.from(policy, "base64").toString()).toEqual([400, "InvalidPolicyDocument"]);
    }
  });

  it("a policy without a bucket condition", () => {
    const policy = policyFor([{ key: KEY }]);
    expect(refusal(() => verify(signedForm(policy))).code).toBe("InvalidPolicyDocument");
  });

  it("a form posted to another bucket than the policy's", () => {
    const error = refusal(() => verify(form().fields, { bucket: "other-bucket" }));
    expect([error.status, error.code]).toEqual([403, "AccessDenied"]);
    expect(error.message).toContain('["eq","$bucket","uploads"]');
  });

  it("a bucket field that differs from the URL's bucket", () => {
    const policy = policyFor([{ bucket: BUCKET }, { key: KEY }]);
    expect(refusal(() => verify(signedForm(policy, { bucket: "elsewhere" }))).code).toBe("AccessDenied");
    expect(verify(signedForm(policy, { bucket: BUCKET })).key).toBe(KEY);
  });
});

describe("verifyPostForm condition matching", () => {
  it("starts-with, eq and case-insensitive condition names", () => {
    const policy = policyFor([{ BUCKET: BUCKET }, ["Starts-With", "$KEY", "sessions/ROBOT-ABC123/"], ["eq", "$x-amz-meta-tag", "a"]]);
    expect(verify(signedForm(policy, { "X-Amz-Meta-Tag": "a" })).key).toBe(KEY);
    expect(refusal(() => verify(signedForm(policy, { key: "sessions/OTHER/1/x", "x-amz-meta-tag": "a" }))).code).toBe("AccessDenied");
    expect(refusal(() => verify(signedForm(policy, { "x-amz-meta-tag": "A" }))).code).toBe("AccessDenied");
  });

  it('a condition on an absent field fails, even starts-with ""', () => {
    const policy = policyFor([{ bucket: BUCKET }, { key: KEY }, ["starts-with", "$x-amz-meta-note", ""]]);
    expect(refusal(() => verify(signedForm(policy))).code).toBe("AccessDenied");
    expect(verify(signedForm(policy, { "x-amz-meta-note": "anything" })).key).toBe(KEY);
  });

  it("Content-Type lists must match in every element", () => {
    const policy = policyFor([{ bucket: BUCKET }, { key: KEY }, ["starts-with", "$Content-Type", "image/"]]);
    expect(verify(signedForm(policy, { "Content-Type": "image/png,image/gif" })).contentType).toBe("image/png,image/gif");
    expect(refusal(() => verify(signedForm(policy, { "Content-Type": "image/png,text/plain" }))).code).toBe("AccessDenied");
  });

  it("intersects content-length ranges (numbers or digit strings) and reads success_action_status", () => {
    const policy = policyFor([
      { bucket: BUCKET },
      { key: KEY },
      ["content-length-range", 10, 1000],
      ["content-length-range", "5", "500"],
      { success_action_status: "201" },
    ]);
    expect(verify(signedForm(policy, { success_action_status: "201" }))).toMatchObject({
      contentLength: { min: 10, max: 500 },
      successActionStatus: 201,
    });
  });
});

/**
 * An error as S3 reports it to an HTTP client: status, `Code`, `Message`, and extra elements
 * (`ArgumentName`, `MaxSizeAllowed`, ...). The filesystem endpoint answers with these, so a
 * device sees the same XML from the platform as from S3.
 */
export class S3ProtocolError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra child elements of `<Error>`, in order. */
  readonly details: ReadonlyArray<readonly [string, string]>;

  constructor(status: number, code: string, message: string, details: Record<string, string | number> = {}) {
    super(message);
    this.name = "S3ProtocolError";
    this.status = status;
    this.code = code;
    this.details = Object.entries(details).map(([name, value]) => [name, String(value)] as const);
  }

  /** `<?xml ...?><Error><Code>…</Code><Message>…</Message>…<RequestId>…</RequestId></Error>` */
  toXml(requestId?: string): string {
    let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(this.code)}</Code>`;
    xml += `<Message>${escapeXml(this.message)}</Message>`;
    for (const [name, value] of this.details) xml += `<${name}>${escapeXml(value)}</${name}>`;
    if (requestId) xml += `<RequestId>${escapeXml(requestId)}</RequestId>`;
    return `${xml}</Error>`;
  }
}

// Text content only needs & < > escaped; quotes stay literal, as in S3's own documents
// (`<ETag>"9e10..."</ETag>`, `Bucket POST must contain a field named 'key'`).
const XML_SPECIAL = /[<>&]/g;
const XML_ENTITIES: Record<string, string> = { "<": "&lt;", ">": "&gt;", "&": "&amp;" };
// Characters XML 1.0 cannot carry at all (C0 controls except tab, LF, CR).
// eslint-disable-next-line no-control-regex
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Escapes element text (not attribute values). */
export function escapeXml(value: string): string {
  return value.replace(XML_INVALID, "\ufffd").replace(XML_SPECIAL, (char) => XML_ENTITIES[char] ?? char);
}

// The errors both verifiers and the endpoint raise, with S3's codes and wording.

export function accessDenied(message = "Access Denied"): S3ProtocolError {
  return new S3ProtocolError(403, "AccessDenied", message);
}

export function invalidArgument(message: string, argumentName?: string, argumentValue?: string): S3ProtocolError {
  const details: Record<string, string> = {};
  if (argumentName !== undefined) details.ArgumentName = argumentName;
  if (argumentValue !== undefined) details.ArgumentValue = argumentValue;
  return new S3ProtocolError(400, "InvalidArgument", message, details);
}

export function invalidAccessKeyId(accessKeyId: string): S3ProtocolError {
  return new S3ProtocolError(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", {
    AWSAccessKeyId: accessKeyId,
  });
}

export function signatureDoesNotMatch(accessKeyId: string, stringToSign: string, signatureProvided: string): S3ProtocolError {
  return new S3ProtocolError(
    403,
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    { AWSAccessKeyId: accessKeyId, StringToSign: stringToSign, SignatureProvided: signatureProvided },
  );
}

export function invalidPolicyDocument(reason: string): S3ProtocolError {
  return new S3ProtocolError(400, "InvalidPolicyDocument", `Invalid Policy: ${reason}`);
}

export function malformedPost(message = "The body of your POST request is not well-formed multipart/form-data."): S3ProtocolError {
  return new S3ProtocolError(400, "MalformedPOSTRequest", message);
}

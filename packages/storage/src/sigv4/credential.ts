/** The SigV4 credential: `<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request`. */

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";
export const SIGV4_TERMINATOR = "aws4_request";
export const S3_SERVICE = "s3";

export type TCredentialScope = {
  accessKeyId: string;
  /** `YYYYMMDD` */
  date: string;
  region: string;
  service: string;
};

export function credentialScope(date: string, region: string, service = S3_SERVICE): string {
  return `${date}/${region}/${service}/${SIGV4_TERMINATOR}`;
}

export function formatCredential(accessKeyId: string, date: string, region: string): string {
  return `${accessKeyId}/${credentialScope(date, region)}`;
}

const SCOPE_DATE = /^\d{8}$/;

/** The parts of a credential, or a sentence saying what is wrong with it. */
export function parseCredential(value: string): TCredentialScope | string {
  const parts = value.split("/");
  if (parts.length !== 5) {
    return 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (accessKeyId === "") return "a non-empty Access Key (AKID) must be provided in the credential.";
  if (!SCOPE_DATE.test(date)) {
    return `incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`;
  }
  if (region === "") return "a non-empty region must be provided in the credential.";
  if (service !== S3_SERVICE) return `incorrect service "${service}". This endpoint belongs to "${S3_SERVICE}".`;
  if (terminator !== SIGV4_TERMINATOR) {
    return `incorrect terminal "${terminator}". This endpoint uses "${SIGV4_TERMINATOR}".`;
  }
  return { accessKeyId, date, region, service };
}

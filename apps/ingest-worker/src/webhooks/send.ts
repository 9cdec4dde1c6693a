/**
 * One webhook POST: signed (Fleetdrop-Signature over "<t>.<body>"), never following a redirect
 * (a 3xx is an answer, and a final one), and — unless the operator allows private addresses —
 * refused before connecting when the URL's host is, or resolves to, a private, loopback,
 * link-local or reserved address. The check runs in the socket's own lookup, so the address
 * checked is the address connected to (no second resolution a DNS answer could change).
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isPublicAddress } from "@fleetdrop/shared/webhooks/address";
import { DELIVERY_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signPayload } from "@fleetdrop/shared/webhooks/signature";
import { answerAttempt, noAnswerAttempt, type TAttempt } from "../delivery/engine";

export class PrivateAddressError extends Error {
  code = "EPRIVATEADDRESS";
  constructor(address: string) {
    super(`${address} is a private, loopback or reserved address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)`);
  }
}

const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 4);
    const list = addresses;
    const refused = list.find((entry) => !isPublicAddress(entry.address));
    if (refused) return callback(new PrivateAddressError(refused.address), "", 4);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

export type TWebhookRequest = {
  url: string;
  secret: string;
  body: string;
  eventId: string;
  eventType: string;
  deliveryId: string;
  timeoutMs: number;
  allowPrivateAddresses: boolean;
  now?: () => number;
};

export async function sendWebhook(input: TWebhookRequest): Promise<TAttempt> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    return {
      ok: false,
      status: null,
      error: "the endpoint URL is not valid",
      retryAfterMs: null,
      permanent: true,
      timeout: false,
      durationMs: 0,
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!input.allowPrivateAddresses && isIP(host) && !isPublicAddress(host)) {
    // Node connects to an IP literal without a lookup: check it here. Refused for good.
    return {
      ok: false,
      status: null,
      error: `refused: ${new PrivateAddressError(host).message}`,
      retryAfterMs: null,
      permanent: true,
      timeout: false,
      durationMs: 0,
    };
  }
  const timestamp = Math.floor((input.now?.() ?? Date.now()) / 1000);
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(input.body)),
    "user-agent": "Fleetdrop-Webhooks/1",
    [SIGNATURE_HEADER]: signPayload(input.secret, input.body, timestamp),
    [EVENT_ID_HEADER]: input.eventId,
    [EVENT_TYPE_HEADER]: input.eventType,
    [DELIVERY_HEADER]: input.deliveryId,
  };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  try {
    const response = await new Promise<{ status: number; text: string; retryAfter: string | null }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: "POST",
          headers,
          timeout: input.timeoutMs,
          ...(input.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup }),
        },
        (res: IncomingMessage) => {
          const parts: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            // Keep only the start of an answer: the log shows 300 characters.
            if (size < 4096) parts.push(chunk);
            size += chunk.length;
          });
          res.on("end", () => {
            const retryAfter = res.headers["retry-after"];
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString("utf8"), retryAfter: retryAfter ?? null });
          });
          res.on("error", reject);
        },
      );
      const deadline = setTimeout(() => req.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })), input.timeoutMs);
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
      req.on("error", (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      req.on("close", () => clearTimeout(deadline));
      req.end(input.body);
    });
    const attempt = answerAttempt(response.status, response.text, response.retryAfter, elapsed());
    if (!attempt.ok && response.status >= 300 && response.status < 400) {
      return { ...attempt, error: `${attempt.error} (redirects are not followed: set the final URL)`, permanent: true };
    }
    return attempt;
  } catch (error) {
    if (error instanceof PrivateAddressError) {
      return {
        ok: false,
        status: null,
        error: `refused: ${error.message}`,
        retryAfterMs: null,
        permanent: true,
        timeout: false,
        durationMs: elapsed(),
      };
    }
    return noAnswerAttempt(error, input.timeoutMs, elapsed());
  }
}

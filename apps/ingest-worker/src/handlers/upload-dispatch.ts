/**
 * `file_upload/request` and `file_upload/complete` carry two kinds of upload: into a session
 * (`session_id`, docs/protocol.md#file_uploadrequest) and into a named store (`store`,
 * docs/protocol.md#store-uploads). The router validates with
 * a permissive schema here; the chosen handler's own schema and field codes then apply, so every
 * error answer is exactly the one that handler would give.
 */
import { ProtocolError } from "@fleetdrop/shared/errors";
import { validateMessage } from "@fleetdrop/shared/protocol/common";
import { z } from "zod";
import type { THandler } from "../router";

const ZAnyObject = z.record(z.string(), z.unknown());

function delegate(handler: THandler, message: Record<string, unknown>, context: Parameters<THandler["handle"]>[1]) {
  return handler.handle(validateMessage(handler.schema, message, handler.fieldCodes), context);
}

/** Session uploads unless the request names a `store` (and no `session_id`). */
export function createUploadRequestDispatch(handlers: { session: THandler; store: THandler }): THandler<typeof ZAnyObject> {
  return {
    schema: ZAnyObject,
    fieldCodes: {},
    async handle(message, context) {
      const hasStore = message.store !== undefined && message.store !== null;
      const hasSession = message.session_id !== undefined && message.session_id !== null;
      if (hasStore && hasSession) throw new ProtocolError("invalid_payload", "Give either session_id (a session upload) or store (a store upload), not both");
      return delegate(hasStore ? handlers.store : handlers.session, message, context);
    },
  };
}

/** Store completions when `isStoreKey(object_key, device)`, session completions otherwise. */
export function createUploadCompleteDispatch(handlers: {
  session: THandler;
  store: THandler;
  isStoreKey(objectKey: string, deviceId: string): boolean;
}): THandler<typeof ZAnyObject> {
  return {
    schema: ZAnyObject,
    fieldCodes: {},
    async handle(message, context) {
      const key = message.object_key;
      const store = typeof key === "string" && handlers.isStoreKey(key, context.deviceId);
      return delegate(store ? handlers.store : handlers.session, message, context);
    },
  };
}

/**
 * `file_upload/complete` carries two kinds of completion: of a session file
 * (docs/protocol.md#file_uploadcomplete) and of an object of a named store
 * (docs/protocol.md#store-uploads). Which one depends on the worker's stores, so the choice is
 * made here rather than in the operation table; both share the operation's schema and codes.
 * (`file_upload/request` is split by the table itself: `uploadRequest` and `storeUpload`.)
 */
import type { THandler } from "../router";

/** Store completions when `isStoreKey(object_key, device)`, session completions otherwise. */
export function createUploadCompleteDispatch(handlers: {
  session: THandler<"uploadComplete">;
  store: THandler<"uploadComplete">;
  isStoreKey(objectKey: string, deviceId: string): boolean;
}): THandler<"uploadComplete"> {
  return {
    async handle(message, context) {
      const store = handlers.isStoreKey(message.object_key, context.deviceId);
      return (store ? handlers.store : handlers.session).handle(message, context);
    },
  };
}

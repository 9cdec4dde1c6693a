import "server-only";
import { z } from "zod";
import { ZDeviceProvisionSchema, ZAuthModeSchema, MAX_CSV_CHARS } from "@/lib/device-credential-forms";
import type { TProjectRouteHandler } from "@/server/auth/with-project";
import { UserInputError } from "@/server/errors";
import { bulkCreateDevices } from "./bulk-create-devices";
import { createDevice } from "./create-device";
import type { TIssuedDevice } from "./provisioning";

const noStore = { "Cache-Control": "no-store" };

function answer(request: Request, body: { devices: Omit<TIssuedDevice, "bundle">[]; bundle: TIssuedDevice["bundle"] }): Response {
  if (new URL(request.url).searchParams.get("format") === "zip") {
    return new Response(Buffer.from(body.bundle.base64, "base64"), {
      status: 201,
      headers: { ...noStore, "Content-Type": "application/zip", "Content-Disposition": `attachment; filename="${body.bundle.fileName}"` },
    });
  }
  return Response.json(body, { status: 201, headers: noStore });
}

/**
 * `POST /api/p/{project}/devices` — provisioning for scripts (signed-in admin session):
 *   - `Content-Type: application/json` `{serial, name, auth?}`: one device;
 *   - `Content-Type: text/csv` (query `auth=certificate|password`): a batch, all or nothing.
 * Answers 201 with `{devices: [{serial, authMode, password?}], bundle: {fileName, base64}}`, or the
 * zip itself with `?format=zip`. Bad input is a 400 with the reason (for a CSV: every bad line).
 */
export const postDevices: TProjectRouteHandler<{ project: string }> = async (request, { ctx }) => {
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("text/csv") || type.startsWith("text/plain")) {
    const csv = await request.text();
    if (csv.length > MAX_CSV_CHARS) throw new UserInputError("The CSV is larger than 256 KiB: split the batch");
    const auth = ZAuthModeSchema.safeParse(new URL(request.url).searchParams.get("auth") ?? "password");
    if (!auth.success) throw new UserInputError("auth must be password or certificate");
    const batch = await bulkCreateDevices({ ctx, csv, authMode: auth.data });
    return answer(request, { devices: batch.devices, bundle: batch.bundle });
  }
  if (!type.startsWith("application/json")) throw new UserInputError("Send JSON {serial, name, auth} or a text/csv body");
  const body: unknown = await request.json().catch(() => null);
  const parsed = ZDeviceProvisionSchema.safeParse(body);
  if (!parsed.success)
    throw new UserInputError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; "));
  const { bundle, ...device } = await createDevice({ ctx, serial: parsed.data.serial, name: parsed.data.name, authMode: parsed.data.auth });
  return answer(request, { devices: [device], bundle });
};

export const ZDevicesApiAnswerSchema = z.object({
  devices: z.array(z.object({ serial: z.string(), authMode: ZAuthModeSchema, password: z.string().optional() })),
  bundle: z.object({ fileName: z.string(), base64: z.string() }),
});

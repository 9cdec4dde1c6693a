"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { isValidContentType } from "@fleetdrop/shared/names";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { confirmStoreUpload, deleteStoreObject, presignStoreUpload } from "@/server/stores/store-uploads";

const target = {
  store: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, { error: "Choose a store" }),
  device: z
    .string()
    .max(64)
    .optional()
    .transform((value) => value || null),
  path: z.string().min(1, { error: "Enter a path in the store" }).max(1024, { error: "Paths are at most 1024 bytes" }),
};

export const presignStoreUploadAction = projectAction(
  {
    role: CAN.manageDevices,
    schema: z.object({
      ...target,
      contentType: z.string().transform((value) => (isValidContentType(value) ? value : "application/octet-stream")),
      size: z.coerce.number().int().min(0),
    }),
  },
  async ({ ctx, input }) => ({ ok: true, data: await presignStoreUpload({ ctx, ...input }) }),
);

export const confirmStoreUploadAction = projectAction({ role: CAN.manageDevices, schema: z.object(target) }, async ({ ctx, input }) => {
  // The uploading component refreshes the page once all its files are done.
  const stored = await confirmStoreUpload({ ctx, ...input });
  return { ok: true, message: `Stored ${input.path}`, data: stored };
});

export const deleteStoreObjectAction = projectAction({ role: CAN.manageDevices, schema: z.object(target) }, async ({ ctx, input }) => {
  await deleteStoreObject({ ctx, ...input });
  revalidatePath(`/p/${ctx.project.slug}/stores`, "layout");
  return { ok: true, message: `Deleted ${input.path}` };
});

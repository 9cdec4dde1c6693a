"use server";
import { z } from "zod";
import { ZDeviceSerialSchema } from "@/lib/forms";
import { CAN } from "@/lib/roles";
import { projectAction } from "@/server/auth/action-client";
import { requestDeviceCapture } from "@/server/captures/request-device-capture";

/** "Capture" on a device's page: into its latest open session. */
export const requestDeviceCaptureAction = projectAction(
  { role: CAN.capture, schema: z.object({ serial: ZDeviceSerialSchema }) },
  async ({ ctx, input }) => {
    const { requestId, presence, sessionId } = await requestDeviceCapture({ ctx, serial: input.serial });
    return { ok: true, message: `Capture requested into session #${sessionId}.`, data: { requestId, presence: presence.state, sessionId } };
  },
);

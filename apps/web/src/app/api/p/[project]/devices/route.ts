import { CAN } from "@/lib/roles";
import { withProject } from "@/server/auth/with-project";
import { postDevices } from "@/server/devices/devices-api";

/** Device provisioning for scripts: one device (JSON) or a CSV batch; see server/devices/devices-api.ts. */
export const POST = withProject<{ project: string }>(postDevices, { role: CAN.manageDevices });

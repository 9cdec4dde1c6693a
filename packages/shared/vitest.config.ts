import { vitestConfig } from "@fleetdrop/vitest-config";

export default vitestConfig();

import { vitestConfig } from "@fleetdrop/vitest-config";

// The short fault suite: five faults of about 20 s each, and up to 60 s more for each fault
// whose files stay pending.
export default vitestConfig({ testTimeout: 600_000 });

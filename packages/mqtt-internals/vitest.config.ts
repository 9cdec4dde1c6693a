import { vitestConfig } from "@fleetdrop/vitest-config";

// Tests start brokers and databases: they get longer, and two files at most run at once.
export default vitestConfig({ testTimeout: 60_000, maxWorkers: 2 });

/** What a benchmark ran on, printed beside every result. */
import { cpus, totalmem, release } from "node:os";

export function machineDescription(): string {
  const cpu = cpus();
  return (
    `${cpu[0]?.model.trim() ?? "unknown CPU"}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
    `Linux ${release()}, Node ${process.version}`
  );
}

/**
 * CPU time from /proc (Linux), for benchmarks that say where the cores went: per process, per
 * thread, and for the whole machine. Clock ticks are 1/100 s.
 */
import { readFileSync } from "node:fs";

function ticksOf(statPath: string): number {
  const stat = readFileSync(statPath, "utf8");
  // utime and stime are fields 14 and 15; the command name before them may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** User + system CPU seconds a process has used so far; NaN when it is gone or unknown. */
export function processCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    return ticksOf(`/proc/${pid}/stat`) / 100;
  } catch {
    return NaN;
  }
}

/** The same for one thread; a process's main thread has the process's id. */
export function threadCpuSeconds(pid: number, tid = pid): number {
  try {
    return ticksOf(`/proc/${pid}/task/${tid}/stat`) / 100;
  } catch {
    return NaN;
  }
}

/** Seconds the machine's cores have spent busy (everything but idle and iowait), all cores summed. */
function machineBusySeconds(): number {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** CPU seconds spent between cpuSpending() and spent(). */
export type TCpuSpent = {
  /** By each process asked about, in the order given (NaN when it is gone or unknown). */
  processes: number[];
  /** By this process (the benchmark's own clients). */
  self: number;
  /** By the whole machine (all cores). */
  machine: number;
};

/** Starts counting the CPU time of `pids`, of this process and of the machine. */
export function cpuSpending(pids: (number | undefined)[]): { spent(): TCpuSpent } {
  const start = { processes: pids.map(processCpuSeconds), self: process.cpuUsage(), machine: machineBusySeconds() };
  return {
    spent() {
      const self = process.cpuUsage(start.self);
      return {
        processes: pids.map((pid, index) => processCpuSeconds(pid) - start.processes[index]!),
        self: (self.user + self.system) / 1e6,
        machine: machineBusySeconds() - start.machine,
      };
    },
  };
}

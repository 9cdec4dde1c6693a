/**
 * Bulk provisioning for a production line: every row is checked first (valid and unused
 * serials, no duplicates in the file), and nothing is created unless all rows are good — a
 * half-provisioned batch is worse than a refused one. Then each device is created with its own
 * credentials; the result feeds the batch's credential bundle.
 */
import { ProvisioningError, type TProvisioningContext } from "../context";
import { assertUsableSerial, createDevice, type TCreatedDevice } from "./create-device";
import type { TAuthMode } from "./credentials";
import { parseDeviceCsv, type TCsvDevice } from "./csv";

export type TBulkProblem = { line: number; serial: string; problem: string };

export async function bulkCreateDevices(
  ctx: TProvisioningContext,
  input: { projectId: string; csv?: string; rows?: TCsvDevice[]; authMode: TAuthMode; concurrency?: number },
): Promise<TCreatedDevice[]> {
  const rows = input.rows ?? parseDeviceCsv(input.csv ?? "");
  const problems: TBulkProblem[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    try {
      assertUsableSerial(row.serial);
    } catch (error) {
      problems.push({ line: row.line, serial: row.serial, problem: (error as Error).message });
      continue;
    }
    const earlier = seen.get(row.serial.toLowerCase());
    if (earlier !== undefined) problems.push({ line: row.line, serial: row.serial, problem: `repeats line ${earlier}` });
    else seen.set(row.serial.toLowerCase(), row.line);
  }
  const taken = await ctx.prisma.device.findMany({ where: { serial: { in: rows.map((row) => row.serial) } }, select: { serial: true } });
  for (const { serial } of taken) {
    const row = rows.find((candidate) => candidate.serial === serial)!;
    problems.push({ line: row.line, serial, problem: "already registered" });
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    throw new ProvisioningError(
      "invalid_csv",
      `nothing was created; ${problems.length} row(s) need fixing:\n` +
        problems.map((p) => `  line ${p.line} ${p.serial || "(empty)"}: ${p.problem}`).join("\n"),
      problems,
    );
  }
  // Password hashing (scrypt) and key generation run on libuv's pool: a few at a time.
  const results: TCreatedDevice[] = [];
  results.length = rows.length;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < rows.length; i = next++) {
      const row = rows[i]!;
      results[i] = await createDevice(ctx, {
        projectId: input.projectId,
        serial: row.serial,
        name: row.name,
        authMode: row.authMode ?? input.authMode,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency ?? 4, rows.length)) }, worker));
  return results;
}

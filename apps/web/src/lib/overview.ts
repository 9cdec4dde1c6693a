/** The overview's query and answer (browser-safe). */
import { z } from "zod";

export const OVERVIEW_RANGES = { "24h": 24, "7d": 7 * 24, "30d": 30 * 24, "90d": 90 * 24 } as const;
export type TOverviewRange = keyof typeof OVERVIEW_RANGES;

export const ZOverviewQuerySchema = z.object({
  range: z.enum(["24h", "7d", "30d", "90d"]).catch("7d").default("7d"),
  by: z.enum(["hour", "day"]).optional().catch(undefined),
});
export type TOverviewQuery = z.infer<typeof ZOverviewQuerySchema>;

/** Hourly bars for up to a week (at most 168); days beyond. */
export function bucketOf(query: TOverviewQuery): "hour" | "day" {
  if (query.by === "hour" && OVERVIEW_RANGES[query.range] <= 7 * 24) return "hour";
  if (query.by === "day") return "day";
  return query.range === "24h" ? "hour" : "day";
}

export type TOverview = {
  range: TOverviewRange;
  bucket: "hour" | "day";
  /** Start of the range (ISO, aligned to the bucket). */
  from: string;
  arrivals: { at: string; files: number; bytes: number }[];
  refusals: { code: string; count: number }[];
  devices: { total: number; online: number; offline: number; unknown: number; seen24h: number };
  storage: { store: string; bytes: number; objects: number }[];
  topDevices: { serial: string; files: number; bytes: number }[];
  backlogs: { serial: string; files: number | null; bytes: number | null; at: string }[];
};

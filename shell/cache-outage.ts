import type { Logger } from './context.js';

const lastReport = new Map<string, number>();

/** How often one kind of cache failure is logged while it lasts (every read would otherwise log one). */
export const CACHE_OUTAGE_REPORT_MS = 10_000;

/** Logs a failed cache call (`what`: which cache and step) at most once per CACHE_OUTAGE_REPORT_MS. */
export function reportCacheOutage(log: Logger, what: string, error: unknown, now = Date.now()): void {
  if (now - (lastReport.get(what) ?? -Infinity) < CACHE_OUTAGE_REPORT_MS) return;
  lastReport.set(what, now);
  log.warn({ err: error }, `${what}; reading through (logged at most every ${CACHE_OUTAGE_REPORT_MS / 1000} s while it lasts)`);
}

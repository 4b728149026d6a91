import type { DB, Trx } from '../db/database.js';
import { failure } from '../core/errors.js';

/**
 * Runs `work` in one SERIALIZABLE transaction, retrying the whole read-decide-write cycle on
 * serialization failures (40001) and deadlocks (40P01) with bounded, full-jitter backoff.
 *
 * Choose ids and `now` before calling, so every attempt decides the same thing.
 * When every attempt fails, throws the domain error busy (503 with Retry-After over HTTP) instead of a 500.
 */

export const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 20, baseDelayMs: 10, maxDelayMs: 1000 };

export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function inSerializableTx<T>(db: DB, work: (trx: Trx) => Promise<T>, policy: RetryPolicy = defaultRetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // On PostgreSQL the BEGIN also turns sequential scans off for the transaction (shell/db.ts).
      return await db.transaction().setIsolationLevel('serializable').execute(work);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (attempt >= policy.attempts) {
        throw failure({ type: 'busy', detail: 'The request could not be completed under contention; retry shortly', retryAfterSeconds: 1 });
      }
      // Full jitter: a random delay up to an exponentially growing cap.
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      await sleep(Math.random() * cap);
    }
  }
}

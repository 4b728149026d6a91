import type { AppContext } from '../context.js';
import { deleteExpiredIdempotencyKeys, deleteExpiredRefreshTokens, redactWebhookPayloads } from '../repos/maintenance.js';
import { deleteSentBefore } from '../repos/outbox.js';

/** Retention of what has outlived its use; each is one bounded statement, safe to run anywhere, any number of times. */
export const RETENTION = {
  /** Sent outbox rows: kept a week for inspection. */
  sentOutboxDays: 7,
  /** Webhook payloads are redacted (the row stays, so a late redelivery is still recognised as a duplicate). */
  webhookPayloadDays: 30,
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CleanupResult {
  idempotencyKeys: number;
  refreshTokens: number;
  outboxRows: number;
  webhookPayloads: number;
}

/**
 * The cleanup job: idempotency keys past their 24 h, refresh tokens past their lifetime (a spent one is
 * kept until then, for reuse detection), sent outbox rows past 7 days, webhook payloads past 30 days.
 */
export async function cleanUp(ctx: AppContext, options: { now?: Date; limit?: number } = {}): Promise<CleanupResult> {
  const now = options.now ?? ctx.now();
  const limit = options.limit ?? 5000;
  return {
    idempotencyKeys: await deleteExpiredIdempotencyKeys(ctx.db, now, limit),
    refreshTokens: await deleteExpiredRefreshTokens(ctx.db, now, limit),
    outboxRows: await deleteSentBefore(ctx.db, new Date(now.getTime() - RETENTION.sentOutboxDays * DAY_MS)),
    webhookPayloads: await redactWebhookPayloads(ctx.db, new Date(now.getTime() - RETENTION.webhookPayloadDays * DAY_MS), limit),
  };
}

import { sql } from 'kysely';
import type { DB } from '../../db/database.js';

/** Deletes and redactions for the cleanup job, each bounded by `limit` rows a run. */

export async function deleteExpiredIdempotencyKeys(db: DB, now: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where(sql<boolean>`ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys WHERE expires_at <= ${now} LIMIT ${limit}))`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Refresh tokens past their lifetime, then families left with no token. */
export async function deleteExpiredRefreshTokens(db: DB, now: Date, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('refresh_tokens')
    .where(sql<boolean>`ctid = ANY (ARRAY(SELECT ctid FROM refresh_tokens WHERE expires_at <= ${now} LIMIT ${limit}))`)
    .executeTakeFirst();
  await db
    .deleteFrom('refresh_families as f')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('refresh_tokens as t').select('t.id').whereRef('t.family_id', '=', 'f.id'))))
    .where('f.created_at', '<=', now)
    .execute();
  return Number(result.numDeletedRows);
}

const REDACTED = JSON.stringify({ redacted: true });

/** Webhook payloads received before `before` are replaced by {"redacted": true}; the event id stays for dedupe. */
export async function redactWebhookPayloads(db: DB, before: Date, limit: number): Promise<number> {
  const result = await db
    .updateTable('webhook_events')
    .set({ payload: REDACTED })
    .where(sql<boolean>`id = ANY (ARRAY(SELECT id FROM webhook_events WHERE received_at < ${before} AND payload <> ${REDACTED}::jsonb LIMIT ${limit}))`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

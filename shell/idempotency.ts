import { sql } from 'kysely';
import { DomainFailure, failure, problemOf, problemTable, type DomainError } from '../core/errors.js';
import type { DB, Trx } from '../db/database.js';
import { inSerializableTx } from './tx.js';

/**
 * Idempotency-Key support (API.md, Conventions).
 *
 * - The key is scoped to the user; the stored row holds a hash of method, path and body, and the response.
 * - The response is written in the same SERIALIZABLE transaction as the effect, so a crash can never leave
 *   an effect without its key or a key without its effect.
 * - "In flight" is a session advisory lock on (user, key), held on the one connection that runs the
 *   transaction and its retries: a second request with the key while the first runs answers 409
 *   idempotency_request_in_flight. Nothing about in-flight state is persisted, so nothing can be left stuck.
 * - A domain failure thrown by the work (a refusal with no effect) is stored in its own small transaction;
 *   5xx and 429 are never stored, so clients may retry them with the same key.
 */

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export interface Outcome {
  status: number;
  body: unknown;
}

export interface IdempotentOutcome extends Outcome {
  replayed: boolean;
}

const storable = (status: number) => status < 500 && status !== 429;

/**
 * A request's Idempotency-Key and the hash of what makes two requests "the same" (the route computes
 * both); null when the request carries no key.
 */
export interface IdempotencyRef {
  key: string;
  requestHash: string;
}

async function storeOutcome(trx: Trx, userId: string, key: string, hash: string, outcome: Outcome, now: Date): Promise<void> {
  await trx
    .insertInto('idempotency_keys')
    .values({
      user_id: userId,
      key,
      request_hash: hash,
      response_status: outcome.status,
      response_body: JSON.stringify(outcome.body ?? null),
      created_at: now,
      expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_SECONDS * 1000),
    })
    // An expired row for the same key is replaced: after 24 h the key is free again.
    .onConflict((oc) => oc.columns(['user_id', 'key']).doUpdateSet((eb) => ({
      request_hash: eb.ref('excluded.request_hash'),
      response_status: eb.ref('excluded.response_status'),
      response_body: eb.ref('excluded.response_body'),
      created_at: eb.ref('excluded.created_at'),
      expires_at: eb.ref('excluded.expires_at'),
    })))
    .execute();
}

/** The unexpired stored outcome for (user, key) as a replay; a stored request other than `hash` is idempotency_key_reused. */
async function storedOutcome(db: DB, userId: string, key: string, hash: string, now: Date): Promise<IdempotentOutcome | null> {
  const stored = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_body'])
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!stored) return null;
  if (stored.request_hash !== hash) {
    throw failure({ type: 'idempotency_key_reused', detail: 'This Idempotency-Key was used with a different request' });
  }
  return { status: stored.response_status, body: stored.response_body, replayed: true };
}

/**
 * Runs `work` (a state change) in one SERIALIZABLE transaction, honouring the Idempotency-Key if any.
 * `work` returns the outcome to answer with; it may also throw a DomainFailure for a refusal with no effect.
 */
export async function runIdempotent(
  db: DB,
  idempotency: IdempotencyRef | null,
  userId: string,
  now: Date,
  work: (trx: Trx) => Promise<Outcome>,
): Promise<IdempotentOutcome> {
  if (idempotency === null) return { ...(await inSerializableTx(db, work)), replayed: false };
  const { key, requestHash: hash } = idempotency;

  return db.connection().execute(async (conn) => {
    const lockId = `idempotency:${userId}:${key}`;
    const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(hashtextextended(${lockId}, 0)) AS locked`.execute(conn);
    if (!rows[0]?.locked) throw failure({ type: 'idempotency_request_in_flight', detail: 'A request with this Idempotency-Key is still being processed' });
    try {
      const stored = await storedOutcome(conn, userId, key, hash, now);
      if (stored) return stored;
      try {
        const outcome = await inSerializableTx(conn, async (trx) => {
          const result = await work(trx);
          if (storable(result.status)) await storeOutcome(trx, userId, key, hash, result, now);
          return result;
        });
        return { ...outcome, replayed: false };
      } catch (error) {
        if (!(error instanceof DomainFailure) || !storable(error.status)) throw error;
        const refusal = { status: error.status, body: problemOf(error.error) };
        await conn.transaction().execute((trx) => storeOutcome(trx, userId, key, hash, refusal, now));
        throw error;
      }
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtextextended(${lockId}, 0))`.execute(conn);
    }
  });
}

/**
 * The stored outcome for this Idempotency-Key, if there is one, without running anything: for flows that
 * must do work outside the transaction first (a payment provider call) and should not repeat it for a
 * replay. Throws idempotency_key_reused like runIdempotent. A request it misses still goes through
 * runIdempotent, which checks again under the lock.
 */
export async function findStoredOutcome(db: DB, idempotency: IdempotencyRef | null, userId: string, now: Date): Promise<IdempotentOutcome | null> {
  if (idempotency === null) return null;
  return storedOutcome(db, userId, idempotency.key, idempotency.requestHash, now);
}

/** A refusal decided before any transaction, stored under the key (when there is one) so a retry replays it. */
export async function refuseIdempotent(db: DB, idempotency: IdempotencyRef | null, userId: string, now: Date, error: unknown): Promise<IdempotentOutcome> {
  if (!(error instanceof DomainFailure) || idempotency === null) throw error;
  return runIdempotent(db, idempotency, userId, now, () => Promise.reject(error));
}

/** A refusal that is answered as an outcome (committed with the transaction's other writes) rather than thrown. */
export function refusalOutcome(error: DomainError): Outcome {
  return { status: problemTable[error.type].status, body: problemOf(error) };
}

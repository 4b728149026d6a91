import type { NotificationKind } from '../../core/notification.js';
import type { DB, OutboxRow, Trx } from '../../db/database.js';

/**
 * The outbox: events written in the same transaction as the state change they report, relayed later
 * into notifications. Plain queries; the relay decides what a row becomes (core/notification.ts).
 */

type Executor = DB | Trx;

export interface NewOutboxRow {
  id: string;
  kind: NotificationKind;
  /** The order the event is about. */
  subject_id: string;
  payload?: Record<string, unknown>;
  created_at: Date;
}

/** Writes an event; takes a transaction because it must commit with the change it reports. */
export async function insertOutbox(trx: Trx, row: NewOutboxRow): Promise<void> {
  const { payload, ...rest } = row;
  await trx
    .insertInto('outbox')
    .values({ ...rest, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) })
    .execute();
}

/**
 * The oldest unsent events, oldest first. Inside a transaction the rows stay locked until it ends and
 * rows another relay holds are skipped, so two workers do not relay the same event at once (relaying it
 * twice would still give one notification per user).
 */
export function claimUnsent(db: Executor, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('sent_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Marks an event relayed; false if it already was. */
export async function markSent(trx: Trx, id: string, now: Date): Promise<boolean> {
  const result = await trx.updateTable('outbox').set({ sent_at: now }).where('id', '=', id).where('sent_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes events relayed before `cutoff` (their notifications stay); returns how many. */
export async function deleteSentBefore(db: Executor, cutoff: Date): Promise<number> {
  const result = await db.deleteFrom('outbox').where('sent_at', 'is not', null).where('sent_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}

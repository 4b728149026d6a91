import type { NotificationState } from '../../core/notification.js';
import type { DB, Trx } from '../../db/database.js';

/** Notifications: what the relay wrote for each user, read in the API and e-mailed by a job. */

type Executor = DB | Trx;

const notificationColumns = ['n.id', 'n.user_id', 'n.outbox_id', 'n.kind', 'n.subject_id', 'n.message', 'n.created_at', 'n.read_at'] as const;

/**
 * Writes an event's notifications; one that already exists for the same event and user is left as it
 * is, so relaying an event twice still gives one per user. Returns the ids of the new ones.
 */
export async function insertNotifications(trx: Trx, rows: readonly NotificationState[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted = await trx
    .insertInto('notifications')
    .values(rows.map((r) => ({ ...r })))
    .onConflict((oc) => oc.columns(['outbox_id', 'user_id']).doNothing())
    .returning('id')
    .execute();
  return inserted.map((r) => r.id);
}

/**
 * A user's notifications as a keyset-paginatable query (ordering and limit left to the caller): newest
 * first is columns ['n.created_at', 'n.id'] descending, which notifications_user_idx serves.
 */
export function notificationsQuery(db: DB, userId: string) {
  return db.selectFrom('notifications as n').select(notificationColumns).where('n.user_id', '=', userId);
}

export function findNotification(db: Executor, id: string): Promise<NotificationState | undefined> {
  return db.selectFrom('notifications as n').select(notificationColumns).where('n.id', '=', id).executeTakeFirst();
}

/** Marks a notification read; false if it already was (the first read time is kept). */
export async function markRead(db: Executor, id: string, now: Date): Promise<boolean> {
  const result = await db.updateTable('notifications').set({ read_at: now }).where('id', '=', id).where('read_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface UnemailedNotification {
  id: string;
  kind: NotificationState['kind'];
  message: string;
  created_at: Date;
  email_attempts: number;
  email: string;
  user_is_active: boolean;
}

/**
 * Notifications not yet e-mailed that have had fewer than `maxAttempts` tries, oldest first, with their
 * user's address. Deactivated users' are left out: they get no mail, and being oldest they would otherwise
 * fill every sweep's `limit` and keep newer failed e-mails from ever being retried.
 */
export function unemailedNotifications(db: Executor, options: { limit: number; maxAttempts: number }): Promise<UnemailedNotification[]> {
  return db
    .selectFrom('notifications as n')
    .innerJoin('users as u', 'u.id', 'n.user_id')
    .select(['n.id', 'n.kind', 'n.message', 'n.created_at', 'n.email_attempts', 'u.email', 'u.is_active as user_is_active'])
    .where('n.emailed_at', 'is', null)
    .where('n.email_attempts', '<', options.maxAttempts)
    .where('u.is_active', '=', true)
    .orderBy('n.created_at')
    .orderBy('n.id')
    .limit(options.limit)
    .execute();
}

/** Records the e-mail as sent; false if it already was. */
export async function markEmailed(db: Executor, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('notifications')
    .set((eb) => ({ emailed_at: now, email_attempts: eb('email_attempts', '+', 1), last_email_error: null }))
    .where('id', '=', id)
    .where('emailed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Counts a failed attempt and keeps its error (cut to 1000 characters) for the operator. */
export async function recordEmailFailure(db: Executor, id: string, error: string): Promise<void> {
  await db
    .updateTable('notifications')
    .set((eb) => ({ email_attempts: eb('email_attempts', '+', 1), last_email_error: error.slice(0, 1000) }))
    .where('id', '=', id)
    .where('emailed_at', 'is', null)
    .execute();
}

/** One notification with what its e-mail needs: the user's address and whether they may still get mail. */
export function findNotificationForEmail(db: Executor, id: string) {
  return db
    .selectFrom('notifications as n')
    .innerJoin('users as u', 'u.id', 'n.user_id')
    .select(['n.id', 'n.kind', 'n.message', 'n.emailed_at', 'u.email', 'u.is_active as user_is_active'])
    .where('n.id', '=', id)
    .executeTakeFirst();
}

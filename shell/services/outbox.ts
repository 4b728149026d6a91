import { randomUUID } from 'node:crypto';
import { emailOf, notificationsFor } from '../../core/notification.js';
import type { AppContext } from '../context.js';
import type { Mailer } from '../mail/mailer.js';
import { findNotificationForEmail, insertNotifications, markEmailed, recordEmailFailure, unemailedNotifications } from '../repos/notifications.js';
import { orderNotificationFacts } from '../repos/orders.js';
import { claimUnsent, markSent } from '../repos/outbox.js';
import { inSerializableTx } from '../tx.js';

/**
 * The outbox relay and e-mail delivery. Events are written in the same transaction as the change they
 * report (order paid, expired); the relay turns each into one notification per user it concerns (core
 * decides who) and marks it sent in one transaction, so a relay killed midway leaves each event either
 * wholly relayed or not at all, and the unique (outbox_id, user_id) makes a second relay of the same
 * event write nothing.
 */

export interface RelayResult {
  events: number;
  notifications: string[];
}

/** Relays up to `limit` unsent events, `batch` per transaction; returns the events relayed and the notifications made. */
export async function relayOutbox(ctx: AppContext, options: { limit?: number; batch?: number } = {}): Promise<RelayResult> {
  const limit = options.limit ?? 1000;
  const batch = Math.min(options.batch ?? 50, limit);
  const result: RelayResult = { events: 0, notifications: [] };
  while (result.events < limit) {
    const now = ctx.now();
    const done = await inSerializableTx(ctx.db, async (trx) => {
      const events = await claimUnsent(trx, Math.min(batch, limit - result.events));
      const facts = await orderNotificationFacts(trx, events.map((e) => e.subject_id));
      const made: string[] = [];
      for (const event of events) {
        const order = facts.get(event.subject_id);
        if (order) {
          const rows = notificationsFor(event, order, order.lineVendorIds.map(() => randomUUID()).concat(randomUUID()), now);
          made.push(...(await insertNotifications(trx, rows)));
        }
        await markSent(trx, event.id, now);
      }
      return { events: events.length, made };
    });
    result.events += done.events;
    result.notifications.push(...done.made);
    if (done.events < batch) break;
  }
  return result;
}

export const MAX_EMAIL_ATTEMPTS = 5;

/** Notifications still to e-mail (fewer than MAX_EMAIL_ATTEMPTS tries so far), oldest first. */
export async function notificationsToEmail(ctx: AppContext, limit: number): Promise<string[]> {
  return (await unemailedNotifications(ctx.db, { limit, maxAttempts: MAX_EMAIL_ATTEMPTS })).map((n) => n.id);
}

export type EmailOutcome = 'sent' | 'already_sent' | 'no_recipient';

/**
 * E-mails one notification to its user, once: `emailed_at` is recorded after the server accepted it, so a
 * retry after a success sends nothing. A failure is counted and rethrown (the queue retries with backoff);
 * the notification itself is never duplicated. A crash between the server's acceptance and the record
 * can send it twice: SMTP has no idempotency key, so delivery is at least once.
 */
export async function emailNotification(ctx: AppContext, mailer: Mailer, notificationId: string): Promise<EmailOutcome> {
  const notification = await findNotificationForEmail(ctx.db, notificationId);
  if (!notification || notification.emailed_at !== null) return 'already_sent';
  if (!notification.user_is_active) return 'no_recipient';
  const { subject, text } = emailOf(notification);
  try {
    await mailer.send({ to: notification.email, subject, text });
  } catch (error) {
    await recordEmailFailure(ctx.db, notificationId, error instanceof Error ? error.message : String(error));
    throw error;
  }
  await markEmailed(ctx.db, notificationId, ctx.now());
  return 'sent';
}

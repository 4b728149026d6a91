import { fail, ok, type Result } from './errors.js';
import type { Actor } from './policy.js';

/**
 * Notifications: who is told of an outbox event, what they are told, and marking one read. Pure; the
 * relay loads the facts of the event's order and writes the rows decided here (one per recipient,
 * which the database keeps unique per event and user).
 */

export const NOTIFICATION_KINDS = ['order_paid', 'order_expired', 'order_refunded'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** An outbox row as the relay reads it: what happened, to which order. */
export interface NotificationEvent {
  id: string;
  kind: NotificationKind;
  /** The order the event is about. */
  subject_id: string;
}

/** What the relay loads about the event's order to decide who is told and what. */
export interface OrderFacts {
  number: number;
  customer_id: string;
  /** The vendor of each of the order's lines (repeats allowed). */
  lineVendorIds: readonly string[];
  /** The user of each vendor, by vendor id. */
  vendorUsers: ReadonlyMap<string, string>;
}

/** The user of each distinct vendor of the order's lines, each once, in line order. */
function vendorUsersOf(facts: OrderFacts): string[] {
  const users = new Set<string>();
  for (const vendorId of facts.lineVendorIds) {
    const userId = facts.vendorUsers.get(vendorId);
    if (userId !== undefined) users.add(userId);
  }
  return [...users];
}

/**
 * Who is told: of a paid order, its vendors (the user of each distinct vendor of its lines); of an
 * expired order, its customer; of a refunded order, its customer and then its vendors (they must not
 * ship it).
 */
export function recipientsOf(event: Pick<NotificationEvent, 'kind'>, facts: OrderFacts): string[] {
  switch (event.kind) {
    case 'order_paid':
      return vendorUsersOf(facts);
    case 'order_expired':
      return [facts.customer_id];
    case 'order_refunded':
      return [...new Set([facts.customer_id, ...vendorUsersOf(facts)])];
  }
}

/** The text a recipient reads, naming the order by its number. */
export function messageFor(kind: NotificationKind, orderNumber: number): string {
  switch (kind) {
    case 'order_paid':
      return `Order #${orderNumber} was paid. It holds your products and is ready to be fulfilled.`;
    case 'order_expired':
      return `Order #${orderNumber} expired before it was paid. Its items were released; you can order them again.`;
    case 'order_refunded':
      return `Order #${orderNumber} was refunded in full. It will not be fulfilled.`;
  }
}

const emailSubjects: Record<NotificationKind, string> = {
  order_paid: 'An order for your products was paid',
  order_expired: 'Your order expired unpaid',
  order_refunded: 'An order was refunded',
};

/** The e-mail that carries a notification: its subject by kind, its text the notification's message. */
export function emailOf(notification: Pick<NotificationState, 'kind' | 'message'>): { subject: string; text: string } {
  return { subject: emailSubjects[notification.kind], text: notification.message };
}

export interface NotificationState {
  id: string;
  user_id: string;
  outbox_id: string | null;
  kind: NotificationKind;
  subject_id: string;
  message: string;
  created_at: Date;
  read_at: Date | null;
}

/**
 * The notifications one event gives: one per recipient, with the ids given (used in order; at least as
 * many as recipients, see `recipientsOf`).
 */
export function notificationsFor(event: NotificationEvent, facts: OrderFacts, ids: readonly string[], now: Date): NotificationState[] {
  const recipients = recipientsOf(event, facts);
  if (ids.length < recipients.length) throw new RangeError(`notificationsFor: ${recipients.length} recipients but ${ids.length} ids`);
  const message = messageFor(event.kind, facts.number);
  return recipients.map((userId, i) => ({
    id: ids[i]!,
    user_id: userId,
    outbox_id: event.id,
    kind: event.kind,
    subject_id: event.subject_id,
    message,
    created_at: now,
    read_at: null,
  }));
}

export type MarkRead = { changed: true; notification: NotificationState } | { changed: false; notification: NotificationState };

/**
 * POST /notifications/{id}/read/: only its user may mark it (anyone else, admins too, gets not_found:
 * the 404-not-403 rule of core/policy.ts); marking a read one again leaves it unchanged.
 */
export function decideMarkRead(actor: Actor, notification: NotificationState | undefined, now: Date): Result<MarkRead> {
  if (notification === undefined || notification.user_id !== actor.id) return fail({ type: 'not_found', detail: 'No such notification' });
  if (notification.read_at !== null) return ok({ changed: false, notification });
  return ok({ changed: true, notification: { ...notification, read_at: now } });
}

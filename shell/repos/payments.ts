import { sql } from 'kysely';
import type { DB, PaymentRow, Trx } from '../../db/database.js';

/** Payments and webhook events, and the few order facts payments need. Plain queries. */

type Executor = DB | Trx;

export type StoredPayment = PaymentRow;

export function findPaymentById(db: Executor, id: string): Promise<StoredPayment | undefined> {
  return db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findPaymentByReference(db: Executor, reference: string): Promise<StoredPayment | undefined> {
  return db.selectFrom('payments').selectAll().where('reference', '=', reference).executeTakeFirst();
}

/** A payment by the provider's own id for it (refund webhooks that carry no reference of ours). */
export function findPaymentByProviderId(db: Executor, provider: StoredPayment['provider'], providerPaymentId: string): Promise<StoredPayment | undefined> {
  return db.selectFrom('payments').selectAll().where('provider', '=', provider).where('provider_payment_id', '=', providerPaymentId).executeTakeFirst();
}

export function findPendingPayment(db: Executor, orderId: string): Promise<StoredPayment | undefined> {
  return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).where('status', '=', 'pending').executeTakeFirst();
}

/** Payments still pending that were made before `before`, oldest first: what the reconcile job asks about. */
export function stalePendingPayments(db: Executor, before: Date, limit: number): Promise<StoredPayment[]> {
  return db.selectFrom('payments').selectAll().where('status', '=', 'pending').where('created_at', '<', before).orderBy('created_at').limit(limit).execute();
}

export async function hasSucceededPayment(db: Executor, orderId: string, exceptId: string): Promise<boolean> {
  const row = await db.selectFrom('payments').select('id').where('order_id', '=', orderId).where('status', '=', 'succeeded').where('id', '<>', exceptId).executeTakeFirst();
  return row !== undefined;
}

export interface NewPaymentRow {
  id: string;
  order_id: string;
  customer_id: string;
  provider: StoredPayment['provider'];
  reference: string;
  amount: number;
  currency: string;
  method: string | null;
  now: Date;
}

/**
 * Inserts a pending payment unless its order already has one (the one-pending-per-order index): returns
 * undefined then. No read comes first, so two initiates at once do not both predicate-lock the small
 * index of pending payments they then write into (a serialization conflict for one of them every time).
 */
export function insertPaymentUnlessPending(db: Executor, p: NewPaymentRow): Promise<StoredPayment | undefined> {
  return db
    .insertInto('payments')
    .values({
      id: p.id,
      order_id: p.order_id,
      customer_id: p.customer_id,
      provider: p.provider,
      reference: p.reference,
      amount: p.amount,
      currency: p.currency,
      status: 'pending',
      method: p.method,
      next_action: JSON.stringify(null),
      created_at: p.now,
      updated_at: p.now,
    })
    .onConflict((oc) => oc.column('order_id').where('status', '=', 'pending').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Stores what the provider gave at initialization, only on a payment still pending and not yet started. */
export function storeProviderStart(db: Executor, id: string, providerPaymentId: string, nextAction: unknown, now: Date): Promise<StoredPayment | undefined> {
  return db
    .updateTable('payments')
    .set({ provider_payment_id: providerPaymentId, next_action: JSON.stringify(nextAction ?? null), updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('provider_payment_id', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export interface PaymentChanges {
  status: StoredPayment['status'];
  needs_refund: boolean;
  failure_reason: string | null;
  succeeded_at: Date | null;
}

export function updatePayment(db: Executor, id: string, changes: PaymentChanges, now: Date): Promise<StoredPayment> {
  return db
    .updateTable('payments')
    .set({ ...changes, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Writes a settled report in one statement: the payment's changes and, when `paid` is given, the order
 * pending_payment → paid (guarded by its status, so an order is never paid twice) with its order_paid
 * outbox row, written only if the order was updated. Returns the payment as updated and whether the
 * order was paid.
 */
export async function writeSettlement(
  trx: Trx,
  paymentId: string,
  changes: PaymentChanges,
  paid: { orderId: string; paidAt: Date; outboxId: string } | null,
  now: Date,
): Promise<{ payment: StoredPayment; orderPaid: boolean }> {
  const updatePayment = trx.updateTable('payments').set({ ...changes, updated_at: now }).where('id', '=', paymentId).returningAll();
  if (paid === null) return { payment: await updatePayment.executeTakeFirstOrThrow(), orderPaid: false };
  const row = await trx
    .with('p', () => updatePayment)
    .with('o', (db) =>
      db.updateTable('orders').set({ status: 'paid', paid_at: paid.paidAt, updated_at: paid.paidAt }).where('id', '=', paid.orderId).where('status', '=', 'pending_payment').returning('id'),
    )
    .with('ob', (db) =>
      db
        .insertInto('outbox')
        .columns(['id', 'kind', 'subject_id', 'created_at'])
        .expression((eb) =>
          eb.selectFrom('o').select([sql<string>`${paid.outboxId}::uuid`.as('id'), sql<'order_paid'>`'order_paid'`.as('kind'), 'o.id as subject_id', sql<Date>`${now}::timestamptz`.as('created_at')]),
        ),
    )
    .selectFrom('p')
    .selectAll('p')
    .select((eb) => eb.exists(eb.selectFrom('o').select('o.id')).as('order_paid'))
    .executeTakeFirstOrThrow();
  const { order_paid, ...payment } = row;
  return { payment, orderPaid: order_paid === true };
}

/**
 * A payment with what settling a report needs of its order, and whether another payment of that order
 * succeeded: one query.
 */
export async function findPaymentToSettle(db: Executor, paymentId: string) {
  const row = await db
    .selectFrom('payments as p')
    .innerJoin('orders as o', 'o.id', 'p.order_id')
    .selectAll('p')
    .select((eb) => [
      'o.customer_id as order_customer_id',
      'o.status as order_status',
      'o.total as order_total',
      'o.currency as order_currency',
      'o.payment_due_by as order_payment_due_by',
      eb
        .exists(eb.selectFrom('payments as other').select('other.id').whereRef('other.order_id', '=', 'p.order_id').where('other.status', '=', 'succeeded').whereRef('other.id', '<>', 'p.id'))
        .as('paid_by_another_payment'),
    ])
    .where('p.id', '=', paymentId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { order_customer_id, order_status, order_total, order_currency, order_payment_due_by, paid_by_another_payment, ...payment } = row;
  return {
    payment: payment satisfies StoredPayment,
    order: { id: payment.order_id, customer_id: order_customer_id, status: order_status, total: order_total, currency: order_currency, payment_due_by: order_payment_due_by },
    paidByAnotherPayment: paid_by_another_payment === true,
  };
}

export function findOrderForPayment(db: Executor, orderId: string) {
  return db
    .selectFrom('orders')
    .select(['id', 'customer_id', 'status', 'total', 'currency', 'payment_due_by'])
    .where('id', '=', orderId)
    .executeTakeFirst();
}

/**
 * Cancels the order's unsettled payment, for the order cancel and expiry flows (call it in their
 * transaction). A success the provider reports later for it is recorded and flagged for refund.
 */
export async function cancelPendingPayments(db: Executor, orderId: string, reason: string, now: Date): Promise<number> {
  const result = await db
    .updateTable('payments')
    .set({ status: 'cancelled', failure_reason: reason, updated_at: now })
    .where('order_id', '=', orderId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function findUserEmail(db: Executor, userId: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst();
  return row?.email;
}

export interface PaymentFilter {
  customerId: string | null;
  needsRefund?: boolean | undefined;
  status?: StoredPayment['status'] | undefined;
}

/** The list query (without ordering or limit, for keysetPage). */
export function paymentsListQuery(db: Executor, filter: PaymentFilter) {
  let q = db.selectFrom('payments').selectAll();
  if (filter.customerId !== null) q = q.where('customer_id', '=', filter.customerId);
  if (filter.needsRefund !== undefined) q = q.where('needs_refund', '=', filter.needsRefund);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  return q;
}

/**
 * Records a webhook event; returns false when (provider, event_id) is already recorded, so a
 * redelivery changes nothing.
 */
export async function recordWebhookEvent(
  db: Executor,
  event: { id: string; provider: string; event_id: string; event_type: string; reference: string | null; payload: unknown; outcome: string; received_at: Date },
): Promise<boolean> {
  const inserted = await db
    .insertInto('webhook_events')
    .values({ ...event, payload: JSON.stringify(event.payload) })
    .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

import type { RefundState } from '../../core/refund.js';
import type { DB, RefundRow, Trx } from '../../db/database.js';
import type { StoredPayment } from './payments.js';

/** Refunds, and the payment and order writes a refund makes. Plain queries. */

type Executor = DB | Trx;

export type StoredRefund = RefundRow;

/** The payment's latest refund: the one that holds it (pending or succeeded) if any, as no refund follows those. */
export function findLatestRefund(db: Executor, paymentId: string): Promise<StoredRefund | undefined> {
  return db.selectFrom('refunds').selectAll().where('payment_id', '=', paymentId).orderBy('requested_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

/** The latest refund of each payment, for lists. */
export async function latestRefunds(db: Executor, paymentIds: readonly string[]): Promise<Map<string, StoredRefund>> {
  if (paymentIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('refunds')
    .selectAll()
    .distinctOn('payment_id')
    .where('payment_id', 'in', [...paymentIds])
    .orderBy('payment_id')
    .orderBy('requested_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.payment_id, r]));
}

/** A pending refund asked by this user under this Idempotency-Key (on any payment). */
export function findPendingRefundByKey(db: Executor, userId: string, key: string): Promise<StoredRefund | undefined> {
  return db.selectFrom('refunds').selectAll().where('requested_by', '=', userId).where('idempotency_key', '=', key).where('status', '=', 'pending').executeTakeFirst();
}

/** Writes a new refund; the partial unique index refunds_one_active_per_payment refuses a second one in flight or done. */
export async function insertRefund(trx: Trx, refund: RefundState, asked: { requested_by: string | null; idempotency_key: string | null }, now: Date): Promise<void> {
  await trx
    .insertInto('refunds')
    .values({
      id: refund.id,
      payment_id: refund.payment_id,
      amount: refund.amount,
      currency: refund.currency,
      status: refund.status,
      reason: refund.reason,
      requested_by: asked.requested_by,
      idempotency_key: asked.idempotency_key,
      provider_refund_id: refund.provider_refund_id,
      failure_reason: refund.failure_reason,
      requested_at: refund.requested_at,
      completed_at: refund.completed_at,
      updated_at: now,
    })
    .execute();
}

/** Stores where a refund now stands. */
export async function saveRefund(trx: Trx, refund: RefundState, now: Date): Promise<void> {
  await trx
    .updateTable('refunds')
    .set({ status: refund.status, provider_refund_id: refund.provider_refund_id, failure_reason: refund.failure_reason, completed_at: refund.completed_at, updated_at: now })
    .where('id', '=', refund.id)
    .execute();
}

/** Withdraws a refund the provider refused outright, while it is still pending; false if it was not. */
export async function deletePendingRefund(trx: Trx, id: string): Promise<boolean> {
  const result = await trx.deleteFrom('refunds').where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Refunds still pending, oldest first, with their payments: what the reconcile job asks about. One the
 * provider has acknowledged (it has a provider refund id) is asked at the job's next run; one without is
 * asked only once it was requested before `before`, when the request that made it must have finished.
 */
export async function stalePendingRefunds(db: Executor, before: Date, limit: number): Promise<{ refund: StoredRefund; payment: StoredPayment }[]> {
  const refunds = await db
    .selectFrom('refunds')
    .selectAll()
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('provider_refund_id', 'is not', null), eb('requested_at', '<', before)]))
    .orderBy('requested_at')
    .limit(limit)
    .execute();
  if (refunds.length === 0) return [];
  const payments = await db.selectFrom('payments').selectAll().where('id', 'in', refunds.map((r) => r.payment_id)).execute();
  const byId = new Map(payments.map((p) => [p.id, p]));
  return refunds.flatMap((refund) => {
    const payment = byId.get(refund.payment_id);
    return payment ? [{ refund, payment }] : [];
  });
}

/** succeeded → refunded; the status guard makes a second attempt a no-op the caller can see. */
export async function markPaymentRefunded(trx: Trx, paymentId: string, refundedAt: Date): Promise<StoredPayment | undefined> {
  return trx
    .updateTable('payments')
    .set({ status: 'refunded', needs_refund: false, refunded_at: refundedAt, updated_at: refundedAt })
    .where('id', '=', paymentId)
    .where('status', '=', 'succeeded')
    .returningAll()
    .executeTakeFirst();
}

/** paid → refunded (paid_at kept); the status guard makes a second attempt a no-op the caller can see. */
export async function markOrderRefunded(trx: Trx, orderId: string, refundedAt: Date): Promise<boolean> {
  const result = await trx
    .updateTable('orders')
    .set({ status: 'refunded', refunded_at: refundedAt, updated_at: refundedAt })
    .where('id', '=', orderId)
    .where('status', '=', 'paid')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

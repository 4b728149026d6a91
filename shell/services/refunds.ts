import { randomUUID } from 'node:crypto';
import { DomainFailure, failure, unwrap } from '../../core/errors.js';
import type { Actor } from '../../core/policy.js';
import { decideRefundRefusal, decideRefundReport, decideRefundRequest, refundAnswer, type RefundDecision, type RefundReport, type RefundState } from '../../core/refund.js';
import type { DB, Trx } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { findStoredOutcome, refuseIdempotent, refusalOutcome, runIdempotent, type IdempotencyRef, type IdempotentOutcome } from '../idempotency.js';
import type { PaymentProvider, RefundLookup, RefundResult, WebhookEvent } from '../payments/provider.js';
import { findOrder, linesOf, type OrderRecord } from '../repos/orders.js';
import { insertOutbox } from '../repos/outbox.js';
import { findPaymentById, findPaymentByProviderId, findPaymentByReference, recordWebhookEvent, type StoredPayment } from '../repos/payments.js';
import {
  deletePendingRefund,
  findLatestRefund,
  findPendingRefundByKey,
  insertRefund,
  markOrderRefunded,
  markPaymentRefunded,
  saveRefund,
  stalePendingRefunds,
  type StoredRefund,
} from '../repos/refunds.js';
import { incrementStock, withProductLocks } from '../repos/stock.js';
import { paymentView } from '../shapes/payments.js';
import { inSerializableTx, isUniqueViolation } from '../tx.js';

/**
 * Refunds: POST /payments/{id}/refund/, refund webhooks and the reconcile job's pass over pending refunds.
 *
 * A refund is asked in three steps, so the provider is never called inside a transaction and never twice:
 * 1. one SERIALIZABLE transaction decides the request (core) and writes the refund as pending: the partial
 *    unique index refunds_one_active_per_payment lets one refund per payment be in flight or done, so of
 *    concurrent requests only one gets past here;
 * 2. the provider is asked, outside any transaction, under our refund id (Stripe's Idempotency-Key);
 * 3. its answer is applied in one SERIALIZABLE transaction (with the Idempotency-Key's outcome): the refund,
 *    the payment, and when the payment paid its order, the order, its stock and the outbox row together.
 * Webhooks and the reconcile job apply reports through the same step 3, and core makes a report that
 * repeats what is recorded change nothing, so a refund racing its own webhook is applied once.
 */

/** A request still running after this long died before answering (its pending refund is picked up again). */
const abandonedAfterMs = (ctx: AppContext) => 2 * ctx.config.PAYMENT_TIMEOUT_MS;

const noSuchPayment = () => failure({ type: 'not_found', detail: 'No such payment' });

function lookupOf(payment: StoredPayment, refund: Pick<StoredRefund, 'id' | 'reason' | 'provider_refund_id'>): RefundLookup {
  return {
    refundId: refund.id,
    reference: payment.reference,
    provider_payment_id: payment.provider_payment_id,
    amount: payment.amount,
    currency: payment.currency,
    method: payment.method,
    reason: refund.reason,
    provider_refund_id: refund.provider_refund_id,
  };
}

/**
 * Asks the provider again about a refund asked before (reconcile, or a request that died): how it stands
 * if the provider has it, else the request again under the same refund id. A refusal then is a failure.
 */
async function askAgain(provider: PaymentProvider, lookup: RefundLookup): Promise<RefundReport> {
  const found = await provider.findRefund(lookup);
  if (found) return found;
  const result = await provider.refund(lookup);
  return result.refused ? { status: 'failed', providerRefundId: null, reason: result.reason } : result.report;
}

/** The products of the payment's order, read before the transaction so their locks can be taken first. */
async function productsOfPayment(db: DB, payment: Pick<StoredPayment, 'order_id'>): Promise<string[]> {
  return [...((await linesOf(db, [payment.order_id])).get(payment.order_id) ?? [])].map((l) => l.product_id);
}

interface Decided {
  payment: StoredPayment;
  order: OrderRecord;
  latest: StoredRefund | null;
  decision: RefundDecision;
}

interface Applied {
  payment: StoredPayment;
  refund: StoredRefund | null;
  decision: RefundDecision;
}

/** Loads the payment, its order and its latest refund in the caller's transaction, and asks core what the report does. */
async function decideForRefund(trx: Trx, paymentId: string, report: RefundReport, now: Date, externalId: string): Promise<Decided> {
  const payment = await findPaymentById(trx, paymentId);
  if (!payment) throw noSuchPayment();
  const order = await findOrder(trx, payment.order_id);
  if (!order) throw new Error(`payment ${payment.id} has no order`);
  const latest = (await findLatestRefund(trx, payment.id)) ?? null;
  return { payment, order, latest, decision: decideRefundReport(payment, order, latest, report, now, { id: externalId }) };
}

/**
 * Writes what core decided, in the transaction that read the state: the refund, the payment, and when the
 * payment paid its order, the order, its stock and the outbox row. Every write is guarded by the state it
 * expects, so nothing is applied twice.
 */
async function writeRefundDecision(trx: Trx, { payment, order, latest, decision }: Decided, now: Date): Promise<Applied> {
  const { effect } = decision;
  if (effect.refund) {
    if (effect.refund.created) await insertRefund(trx, effect.refund.next, { requested_by: null, idempotency_key: null }, now);
    else await saveRefund(trx, effect.refund.next, now);
  }
  let updated = payment;
  if (effect.payment) {
    const refunded = await markPaymentRefunded(trx, payment.id, effect.payment.refunded_at);
    // Unreachable under SERIALIZABLE (the payment was read as succeeded in this transaction).
    if (!refunded) throw new Error(`payment ${payment.id} was not succeeded when refunding it`);
    updated = refunded;
  }
  if (effect.order) {
    if (!(await markOrderRefunded(trx, order.id, effect.order.refunded_at))) throw new Error(`order ${order.id} was not paid when refunding it`);
    await insertOutbox(trx, { id: randomUUID(), kind: 'order_refunded', subject_id: order.id, created_at: now });
  }
  if (effect.returnsStock) for (const item of order.items) await incrementStock(trx, item.product_id, item.quantity, now);
  return { payment: updated, refund: effect.refund ? ((await findLatestRefund(trx, payment.id)) ?? null) : latest, decision };
}

/** Applies a provider's report about the payment's refund: the one path the request, the webhooks and the reconcile job share. */
async function applyRefundReport(trx: Trx, paymentId: string, report: RefundReport, now: Date, externalId: string): Promise<Applied> {
  return writeRefundDecision(trx, await decideForRefund(trx, paymentId, report, now, externalId), now);
}

/** After the commit of an applied report: the catalog shows the returned stock, the relay tells people. */
async function afterCommit(ctx: AppContext, decision: RefundDecision | null): Promise<void> {
  if (decision?.effect.returnsStock) await ctx.cache.bump('products');
  if (decision?.effect.order) ctx.wake('relay');
}

type Reservation = { kind: 'asked'; payment: StoredPayment; refund: RefundState } | { kind: 'resumed'; payment: StoredPayment; refund: StoredRefund };

/**
 * Step 1: the pending refund, or why not. With an Idempotency-Key, a pending refund asked under the same
 * key means the first request with it is still running (409 idempotency_request_in_flight, never stored),
 * or died long ago, in which case this request picks its refund up again instead of asking anew.
 */
async function reserveRefund(ctx: AppContext, idempotency: IdempotencyRef | null, actor: Actor, paymentId: string, fresh: { id: string; reason: string }, now: Date): Promise<Reservation> {
  return inSerializableTx(ctx.db, async (trx) => {
    const payment = await findPaymentById(trx, paymentId);
    if (!payment) throw noSuchPayment();
    if (idempotency) {
      const mine = await findPendingRefundByKey(trx, actor.id, idempotency.key);
      if (mine) {
        if (mine.payment_id !== payment.id || mine.reason !== fresh.reason.trim()) {
          throw failure({ type: 'idempotency_key_reused', detail: 'This Idempotency-Key was used with a different request' });
        }
        if (now.getTime() - mine.requested_at.getTime() < abandonedAfterMs(ctx)) {
          throw failure({ type: 'idempotency_request_in_flight', detail: 'A request with this Idempotency-Key is still being processed' });
        }
        return { kind: 'resumed', payment, refund: mine };
      }
    }
    const refund = unwrap(decideRefundRequest(actor, payment, (await findLatestRefund(trx, payment.id)) ?? null, fresh, now));
    if (!ctx.payments[payment.provider]) throw failure({ type: 'provider_error', detail: `The payment provider ${payment.provider} is not enabled on this server` });
    await insertRefund(trx, refund, { requested_by: actor.id, idempotency_key: idempotency?.key ?? null }, now);
    return { kind: 'asked', payment, refund };
  });
}

/** A refusal from step 1 as a domain failure: a concurrent refund's insert is payment_not_refundable. */
function refusalOf(error: unknown): unknown {
  if (isUniqueViolation(error, 'refunds_one_active_per_payment')) return failure({ type: 'payment_not_refundable', detail: 'A refund of this payment is already pending' });
  return error;
}

/** Refusals about the key itself are answered, never stored under it (the first request's outcome will be). */
const aboutTheKey = (error: unknown) => error instanceof DomainFailure && (error.error.type === 'idempotency_request_in_flight' || error.error.type === 'idempotency_key_reused');

/**
 * POST /payments/{id}/refund/ (admins; Idempotency-Key honoured): 200 the payment refunded, 202 the
 * payment with its refund pending, 409 payment_not_refundable, 502 provider_error (nothing changed).
 */
export async function refundPayment(ctx: AppContext, idempotency: IdempotencyRef | null, actor: Actor, paymentId: string, reason: string): Promise<IdempotentOutcome> {
  const now = ctx.now();
  const replay = await findStoredOutcome(ctx.db, idempotency, actor.id, now);
  if (replay) return replay;

  const fresh = { id: randomUUID(), reason };
  let reservation: Reservation;
  try {
    // A concurrent request's refund trips the unique index: once more, this request sees it and says why
    // (its own key in flight, or the payment not refundable).
    reservation = await reserveRefund(ctx, idempotency, actor, paymentId, fresh, now).catch((error: unknown) => {
      if (!isUniqueViolation(error, 'refunds_one_active_per_payment')) throw error;
      return reserveRefund(ctx, idempotency, actor, paymentId, fresh, now);
    });
  } catch (error) {
    if (aboutTheKey(error)) throw error;
    return refuseIdempotent(ctx.db, idempotency, actor.id, now, refusalOf(error));
  }
  const { payment, refund } = reservation;

  // Step 2, outside any transaction.
  const provider = ctx.payments[payment.provider];
  const lookup = lookupOf(payment, { id: refund.id, reason: refund.reason, provider_refund_id: refund.provider_refund_id });
  let result: RefundResult;
  if (!provider) result = { refused: true, reason: `provider ${payment.provider} is not enabled` };
  else if (reservation.kind === 'resumed') result = { refused: false, report: await askAgain(provider, lookup) };
  else result = await provider.refund(lookup);
  if (result.refused) ctx.log.warn({ reference: payment.reference, refund: refund.id, reason: result.reason }, 'payment provider refused a refund');

  // Step 3. Its id for a refund the provider made without us is chosen before the retry loop.
  const appliedAt = ctx.now();
  const externalId = randomUUID();
  let decision: RefundDecision | null = null;
  const products = result.refused ? [] : await productsOfPayment(ctx.db, payment);
  const outcome = await withProductLocks(ctx.db, products, (conn) =>
    runIdempotent(conn, idempotency, actor.id, now, async (trx) => {
      decision = null;
      if (result.refused) {
        const refusal = decideRefundRefusal((await findLatestRefund(trx, payment.id)) ?? null, refund.id, result.reason);
        if (refusal.withdraw) await deletePendingRefund(trx, refund.id);
        return refusalOutcome(refusal.error);
      }
      const applied = await applyRefundReport(trx, payment.id, result.report, appliedAt, externalId);
      decision = applied.decision;
      const answer = refundAnswer(applied.refund?.id === refund.id ? applied.refund : null);
      if (!answer.ok) return refusalOutcome(answer.error);
      return { status: answer.value === 'refunded' ? 200 : 202, body: paymentView(applied.payment, actor, applied.refund) };
    }),
  );
  if (!outcome.replayed) await afterCommit(ctx, decision);
  return outcome;
}

export type RefundWebhookOutcome = RefundDecision['outcome'] | 'unknown_reference' | 'provider_mismatch' | 'duplicate';

/**
 * A refund webhook (signature already checked): recorded in webhook_events in the same transaction as its
 * effect, so a redelivery (however many at once) finds it recorded and changes nothing.
 */
export async function receiveRefundEvent(
  ctx: AppContext,
  provider: PaymentProvider,
  event: WebhookEvent & { refund: NonNullable<WebhookEvent['refund']> },
  payload: unknown,
  now: Date,
): Promise<RefundWebhookOutcome> {
  const rowId = randomUUID();
  const externalId = randomUUID();
  const found =
    (event.reference ? await findPaymentByReference(ctx.db, event.reference) : undefined) ??
    (event.refund.providerPaymentId ? await findPaymentByProviderId(ctx.db, provider.name, event.refund.providerPaymentId) : undefined);
  const ours = found && found.provider === provider.name ? found : undefined;
  const products = ours ? await productsOfPayment(ctx.db, ours) : [];

  let decision: RefundDecision | null = null;
  const outcome = await withProductLocks(ctx.db, products, (conn) =>
    inSerializableTx(conn, async (trx): Promise<RefundWebhookOutcome> => {
      decision = null;
      const record = (outcome: string) =>
        recordWebhookEvent(trx, {
          id: rowId,
          provider: provider.name,
          event_id: event.eventId,
          event_type: event.eventType,
          reference: found?.reference ?? event.reference,
          payload,
          outcome,
          received_at: now,
        });
      if (!found || !ours) {
        const outcome = found ? 'provider_mismatch' : 'unknown_reference';
        return (await record(outcome)) ? outcome : 'duplicate';
      }
      const decided = await decideForRefund(trx, ours.id, event.refund.report, now, externalId);
      if (!(await record(decided.decision.outcome))) return 'duplicate';
      decision = (await writeRefundDecision(trx, decided, now)).decision;
      return decided.decision.outcome;
    }),
  );
  await afterCommit(ctx, decision);
  return outcome;
}

/**
 * The reconcile job's pass over refunds: those the provider acknowledged as pending, and those whose
 * request must have finished (twice the provider timeout) without an answer, are asked of their provider again and applied through the same
 * code as the request, one transaction each. Returns what happened to each, keyed by outcome.
 */
export async function reconcilePendingRefunds(ctx: AppContext, options: { limit?: number; now?: Date } = {}): Promise<Record<string, number>> {
  const now = options.now ?? ctx.now();
  const outcomes: Record<string, number> = {};
  const count = (key: string) => (outcomes[key] = (outcomes[key] ?? 0) + 1);
  for (const { refund, payment } of await stalePendingRefunds(ctx.db, new Date(now.getTime() - abandonedAfterMs(ctx)), options.limit ?? 200)) {
    const provider = ctx.payments[payment.provider];
    if (!provider) {
      count('provider_not_enabled');
      continue;
    }
    const report = await askAgain(provider, lookupOf(payment, refund));
    const externalId = randomUUID();
    const applied = await withProductLocks(ctx.db, await productsOfPayment(ctx.db, payment), (conn) =>
      inSerializableTx(conn, (trx) => applyRefundReport(trx, payment.id, report, now, externalId)),
    );
    await afterCommit(ctx, applied.decision);
    count(applied.decision.outcome);
  }
  return outcomes;
}

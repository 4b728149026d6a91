import { randomBytes, randomUUID } from 'node:crypto';
import type { DB, Trx } from '../../db/database.js';
import { confirmationAnswer, decideInitiation, decideReport, transitionPayment, type ProviderReport, type ReportDecision, type ReportOutcome } from '../../core/payment.js';
import { authorizePaymentRead, type Actor } from '../../core/policy.js';
import { fakePaymentsAllowed } from '../adapters.js';
import type { AppContext } from '../context.js';
import { findStoredOutcome, refuseIdempotent, refusalOutcome, runIdempotent, type IdempotencyRef, type IdempotentOutcome } from '../idempotency.js';
import { keysetPage, type Page, toPage } from '../pagination.js';
import { fail, failure, unwrap } from '../../core/errors.js';
import type { NextAction, PaymentProvider, ProviderName, WebhookEvent } from '../payments/provider.js';
import {
  findOrderForPayment,
  findPaymentById,
  findPaymentByReference,
  findPaymentToSettle,
  findPendingPayment,
  findUserEmail,
  hasSucceededPayment,
  insertPaymentUnlessPending,
  stalePendingPayments,
  paymentsListQuery,
  recordWebhookEvent,
  storeProviderStart,
  updatePayment,
  writeSettlement,
  type StoredPayment,
} from '../repos/payments.js';
import { paymentView, type Payment } from '../shapes/payments.js';
import { unstorableTextPath } from '../shapes/common.js';
import { findLatestRefund, latestRefunds } from '../repos/refunds.js';
import { receiveRefundEvent, type RefundWebhookOutcome } from './refunds.js';
import { inSerializableTx } from '../tx.js';

/**
 * Payments: initiate, confirm, provider webhooks, reads.
 *
 * Provider calls never run inside a database transaction (a slow provider must not hold locks or a
 * connection): initiate writes the pending payment, calls the provider, then stores what it gave;
 * confirm asks the provider first, then applies the answer in one SERIALIZABLE transaction that also
 * marks the order paid. With an Idempotency-Key, a stored response is replayed before any provider call.
 */

/** A payment reference: ours, unguessable, and sent to the provider as its reference. */
export const newPaymentReference = () => `nx_${randomBytes(12).toString('hex')}`;

const notFound = () => failure({ type: 'not_found', detail: 'No such order' });

/**
 * The provider a new payment uses: the one asked for, if enabled; `fake` only when the server runs with
 * PAYMENT_PROVIDER=fake (never beside a real provider, never in production), even if one was injected.
 */
function chooseProvider(ctx: AppContext, asked: ProviderName | undefined): PaymentProvider {
  const name = asked ?? ctx.payments.default;
  const provider = ctx.payments[name];
  if (!provider || (name === 'fake' && !fakePaymentsAllowed(ctx.config))) {
    throw failure({ type: 'validation_failed', detail: `The payment provider ${name} is not enabled`,
      errors: [{ path: 'provider', message: `Provider ${name} is not enabled on this server` }],
    });
  }
  return provider;
}

export interface InitiateInput {
  order_id: string;
  provider?: ProviderName | undefined;
  method?: string | undefined;
}

/**
 * POST /payments/initiate/. A provider that cannot start the payment (down, slow, refusing) leaves
 * nothing half-made: the new payment is cancelled and the answer is 503 busy with Retry-After, so a
 * retry makes a fresh payment with a fresh reference. (Should the provider have started it after all,
 * a later success for the cancelled payment is recorded and flagged for refund.)
 */
export async function initiatePayment(ctx: AppContext, idempotency: IdempotencyRef | null, actor: Actor, input: InitiateInput): Promise<IdempotentOutcome> {
  const provider = chooseProvider(ctx, input.provider);
  const now = ctx.now();
  const replay = await findStoredOutcome(ctx.db, idempotency, actor.id, now);
  if (replay) return replay;

  const fresh = { id: randomUUID(), reference: newPaymentReference() };
  const email = (await findUserEmail(ctx.db, actor.id)) ?? '';

  // Decided first as if the order had no pending payment, and inserted unless it has one (the
  // one-pending-payment index says): only then is the pending payment read and returned. Two first
  // initiates at once: one inserts, the other returns its payment.
  const findOrCreate = () =>
    inSerializableTx(ctx.db, async (trx) => {
      const order = await findOrderForPayment(trx, input.order_id);
      if (!order || order.customer_id !== actor.id) throw notFound();
      const decision = unwrap(decideInitiation(order, null, fresh, now));
      if (decision.kind === 'create') {
        const payment = await insertPaymentUnlessPending(trx, { ...decision.payment, order_id: order.id, customer_id: actor.id, provider: provider.name, method: input.method ?? null, now });
        if (payment) return { payment, created: true };
      }
      const existing = unwrap(decideInitiation(order, (await findPendingPayment(trx, order.id)) ?? null, fresh, now));
      if (existing.kind !== 'existing') throw new Error(`order ${order.id}: a pending payment refused the insert but none is visible`);
      return { payment: existing.payment, created: false };
    });
  let started: { payment: StoredPayment; created: boolean };
  try {
    started = await findOrCreate();
  } catch (error) {
    return refuseIdempotent(ctx.db, idempotency, actor.id, now, error);
  }

  const { payment, created } = started;
  const paymentProvider = ctx.payments[payment.provider];
  // A pending payment another request is still starting is returned as it is; one whose start was
  // abandoned long ago (its request died) is started again under the same reference.
  const abandoned = now.getTime() - payment.created_at.getTime() > 2 * ctx.config.PAYMENT_TIMEOUT_MS;
  let start: { providerPaymentId: string; nextAction: NextAction } | null = null;
  if (payment.provider_payment_id === null && paymentProvider && (created || abandoned)) {
    const result = await paymentProvider.initialize({
      reference: payment.reference,
      order_id: payment.order_id,
      amount: payment.amount,
      currency: payment.currency,
      email,
      method: payment.method,
    });
    if (!result.ok) {
      await inSerializableTx(ctx.db, async (trx) => {
        const current = await findPaymentById(trx, payment.id);
        if (current && current.provider_payment_id === null && transitionPayment(current.status, 'cancelled').ok) {
          await updatePayment(trx, payment.id, { status: 'cancelled', needs_refund: false, failure_reason: `provider_unavailable: ${result.reason}`, succeeded_at: null }, ctx.now());
        }
      });
      ctx.log.warn({ provider: payment.provider, reference: payment.reference, reason: result.reason }, 'payment provider could not start the payment');
      throw failure({ type: 'busy', detail: 'The payment provider could not be reached; retry shortly', retryAfterSeconds: 5 });
    }
    start = { providerPaymentId: result.providerPaymentId, nextAction: result.nextAction };
  }

  const answer = async (db: DB | Trx) => {
    const stored = start ? await storeProviderStart(db, payment.id, start.providerPaymentId, start.nextAction, now) : undefined;
    const current = stored ?? (await findPaymentById(db, payment.id));
    if (!current) throw notFound();
    // A payment being initiated is pending, so it has no refund.
    return { status: created ? 201 : 200, body: paymentView(current, actor, null) };
  };
  // Without an Idempotency-Key there is no response to store with it: the one guarded UPDATE is atomic
  // on its own, and outside a SERIALIZABLE transaction it cannot fail for another payment's sake.
  if (idempotency === null) return { ...(await answer(ctx.db)), replayed: false };
  return runIdempotent(ctx.db, idempotency, actor.id, now, answer);
}

/**
 * Writes what a report decided; the order update is guarded so it can never pay an order twice. An order
 * paid writes an outbox row in the same transaction (its vendors are told by the relay).
 */
async function applyDecision(trx: Trx, payment: StoredPayment, decision: ReportDecision, now: Date): Promise<StoredPayment> {
  const { payment: changes, order } = decision.effect;
  if (!changes) {
    if (order) throw new Error(`payment ${payment.id}: a decision paid its order without settling the payment`);
    return payment;
  }
  const paid = order ? { orderId: payment.order_id, paidAt: order.paid_at, outboxId: randomUUID() } : null;
  const written = await writeSettlement(trx, payment.id, changes, paid, now);
  // Unreachable under SERIALIZABLE (the order was read as pending_payment in this transaction).
  if (paid && !written.orderPaid) throw new Error(`order ${payment.order_id} was not pending_payment when paying it`);
  return written.payment;
}

/** Applies a provider's report to a payment (by id) in the caller's transaction: the one path confirm and reconcile share. */
async function settle(ctx: AppContext, trx: Trx, paymentId: string, report: ProviderReport, now: Date) {
  const found = await findPaymentToSettle(trx, paymentId);
  if (!found) throw failure({ type: 'not_found', detail: 'No such payment' });
  const { payment: current, order, paidByAnotherPayment } = found;
  const decision = decideReport(current, { ...order, paidByAnotherPayment }, report, now);
  const updated = await applyDecision(trx, current, decision, now);
  if (decision.outcome === 'flagged_for_refund') ctx.log.warn({ reference: current.reference, detail: decision.detail }, 'payment flagged for refund');
  return { before: current, decision, updated };
}

/** What a provider says about a pending payment now; "not enabled" and timeouts are a pending report, never a failure. */
async function askProvider(ctx: AppContext, payment: StoredPayment): Promise<ProviderReport> {
  const provider = ctx.payments[payment.provider];
  if (!provider) return { status: 'pending', reference: payment.reference, amount: null, currency: null, reason: `provider ${payment.provider} is not enabled` };
  return provider.verify(payment);
}

/**
 * The reconcile job: payments still pending `olderThanSeconds` after they were made are asked of their
 * provider and settled through the same code as confirm, one transaction each (a payment settled
 * meanwhile by a confirm or a webhook is left as it is by core). Returns what happened to each.
 */
export async function reconcilePendingPayments(ctx: AppContext, options: { olderThanSeconds: number; limit?: number; now?: Date }) {
  const now = options.now ?? ctx.now();
  const outcomes: Record<string, number> = {};
  for (const payment of await stalePendingPayments(ctx.db, new Date(now.getTime() - options.olderThanSeconds * 1000), options.limit ?? 200)) {
    const report = await askProvider(ctx, payment);
    const { decision } = await inSerializableTx(ctx.db, (trx) => settle(ctx, trx, payment.id, report, now));
    outcomes[decision.outcome] = (outcomes[decision.outcome] ?? 0) + 1;
    if (decision.effect.order) ctx.wake('relay');
  }
  return outcomes;
}

/** Loads the payment's order facts and decides a report against the current state. */
async function decideForPayment(trx: Trx, payment: StoredPayment, report: ProviderReport, now: Date): Promise<ReportDecision> {
  const order = await findOrderForPayment(trx, payment.order_id);
  if (!order) throw new Error(`payment ${payment.id} has no order`);
  const paidByAnotherPayment = await hasSucceededPayment(trx, order.id, payment.id);
  return decideReport(payment, { ...order, paidByAnotherPayment }, report, now);
}

/**
 * POST /payments/confirm/. The provider is asked only while the payment is pending; the answer is
 * applied in one transaction with the order. Failures are committed and answered as 402 (an outcome,
 * not a thrown error, so the transaction keeps them). Timeouts and "still processing" answer 200 with
 * the payment still pending.
 */
export async function confirmPayment(ctx: AppContext, idempotency: IdempotencyRef | null, actor: Actor, reference: string): Promise<IdempotentOutcome> {
  const now = ctx.now();
  const replay = await findStoredOutcome(ctx.db, idempotency, actor.id, now);
  if (replay) return replay;

  const payment = await findPaymentByReference(ctx.db, reference);
  const readable = payment ? authorizePaymentRead(actor, payment) : fail({ type: 'not_found', detail: 'No such payment' });
  if (!payment || !readable.ok) return refuseIdempotent(ctx.db, idempotency, actor.id, now, failure(readable.ok ? { type: 'not_found' } : readable.error));

  const report: ProviderReport =
    payment.status === 'pending' ? await askProvider(ctx, payment) : { status: 'pending', reference: payment.reference, amount: null, currency: null, reason: 'not asked' };

  const outcome = await runIdempotent(ctx.db, idempotency, actor.id, now, async (trx) => {
    const { before, decision, updated } = await settle(ctx, trx, payment.id, report, now);
    const answer = confirmationAnswer(before.status, decision);
    if (!answer.ok) return refusalOutcome(answer.error);
    // A payment that was pending has no refund: only a settled one is read for its latest.
    const refund = before.status === 'pending' ? null : ((await findLatestRefund(trx, updated.id)) ?? null);
    return { status: 200, body: paymentView(updated, actor, refund) };
  });
  if (!outcome.replayed) ctx.wake('relay');
  return outcome;
}

export type WebhookOutcome = ReportOutcome | RefundWebhookOutcome | 'duplicate' | 'ignored_event_type' | 'unknown_reference' | 'provider_mismatch';

/**
 * POST /payments/webhooks/{provider}/. The signature is checked over the raw body before anything is
 * read; the event is recorded in the same transaction as its effect, so a redelivery (however many at
 * once) finds it recorded and changes nothing.
 */
export async function receiveWebhook(
  ctx: AppContext,
  providerName: string,
  rawBody: Buffer,
  headers: Record<string, string | string[] | undefined>,
): Promise<{ received: true; outcome: WebhookOutcome }> {
  const provider = (ctx.payments as Partial<Record<string, PaymentProvider>>)[providerName];
  if (!provider?.webhooks || providerName === 'default') throw failure({ type: 'not_found', detail: `No webhooks for provider ${providerName}` });
  const now = ctx.now();
  if (!provider.webhooks.verifySignature({ rawBody, headers, now })) throw failure({ type: 'unauthenticated', detail: 'The webhook signature is missing or invalid' });

  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw failure({ type: 'malformed_json', detail: 'The request body is not valid JSON' });
  }
  // Signed, but text PostgreSQL cannot store (U+0000, a lone surrogate) is refused like any hostile input.
  const unstorable = unstorableTextPath(body);
  if (unstorable !== null) {
    throw failure({ type: 'validation_failed', detail: 'The event contains text that cannot be stored', errors: [{ path: unstorable, message: 'must not contain U+0000 or unpaired surrogates' }] });
  }
  const event: WebhookEvent | null = provider.webhooks.parseEvent(body);
  if (!event) throw failure({ type: 'validation_failed', detail: 'The body is not an event of this provider', errors: [{ path: '', message: 'Not a recognised event' }] });
  const { refund } = event;
  if (refund) return { received: true, outcome: await receiveRefundEvent(ctx, provider, { ...event, refund }, body, now) };

  const rowId = randomUUID();
  const result = await inSerializableTx(ctx.db, async (trx) => {
    const payment = event.reference ? await findPaymentByReference(trx, event.reference) : undefined;
    let outcome: WebhookOutcome = 'ignored_event_type';
    let decision: ReportDecision | null = null;
    if (event.report) {
      if (!payment) outcome = 'unknown_reference';
      else if (payment.provider !== provider.name) outcome = 'provider_mismatch';
      else {
        decision = await decideForPayment(trx, payment, event.report, now);
        outcome = decision.outcome;
      }
    }
    const first = await recordWebhookEvent(trx, {
      id: rowId,
      provider: provider.name,
      event_id: event.eventId,
      event_type: event.eventType,
      reference: event.reference,
      payload: body,
      outcome,
      received_at: now,
    });
    if (!first) return { received: true as const, outcome: 'duplicate' as const };
    if (payment && decision) await applyDecision(trx, payment, decision, now);
    return { received: true as const, outcome };
  });
  if (result.outcome === 'paid') ctx.wake('relay');
  return result;
}

export interface PaymentListQuery {
  limit: number;
  cursor?: string | undefined;
  status?: StoredPayment['status'] | undefined;
  needs_refund?: boolean | undefined;
}

/** GET /payments/: customers their own, admins all (and only admins may filter on needs_refund). */
export async function listPayments(ctx: AppContext, listUrl: string, actor: Actor, query: PaymentListQuery): Promise<Page<Payment>> {
  if (query.needs_refund !== undefined && actor.role !== 'admin') throw failure({ type: 'forbidden', detail: 'Only admins may filter on needs_refund' });
  const q = paymentsListQuery(ctx.db, { customerId: actor.role === 'admin' ? null : actor.id, needsRefund: query.needs_refund, status: query.status });
  const page = await keysetPage(ctx.paginator, q, {
    columns: ['created_at', 'id'],
    direction: 'desc',
    keyOf: (row) => [row.created_at.toISOString(), row.id],
    ordering: `payments:${query.status ?? ''}:${query.needs_refund ?? ''}`,
    limit: query.limit,
    cursor: query.cursor,
  });
  const refunds = await latestRefunds(ctx.db, page.rows.map((row) => row.id));
  return toPage(listUrl, page, (row) => paymentView(row, actor, refunds.get(row.id) ?? null));
}

export async function getPayment(ctx: AppContext, actor: Actor, id: string): Promise<Payment> {
  const payment = await findPaymentById(ctx.db, id);
  if (!payment) throw failure({ type: 'not_found', detail: 'No such payment' });
  unwrap(authorizePaymentRead(actor, payment));
  return paymentView(payment, actor, (await findLatestRefund(ctx.db, payment.id)) ?? null);
}

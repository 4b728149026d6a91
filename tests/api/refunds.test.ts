import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expireOverdueOrders } from '../../shell/services/orders.js';
import { relayOutbox } from '../../shell/services/outbox.js';
import { reconcilePendingRefunds } from '../../shell/services/refunds.js';
import { JOBS } from '../../shell/jobs/jobs.js';
import type { PaymentProvider } from '../../shell/payments/provider.js';
import { signPaystack, signStripe } from '../../shell/payments/signatures.js';
import { createVendor, type Catalog } from '../support/commerce-fixtures.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { insertOrder, standInProviderEnv } from '../support/payment-fixtures.js';
import { startPaystackStandIn, type PaystackStandIn } from '../support/paystack-stand-in.js';
import { orderRow, orderWithPayment, outboxOf, paidOrder, paymentRow, refundRows, settleAndConfirm, stocks, type PaidOrder } from '../support/refund-fixtures.js';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in.js';

// The Refunds section of API.md through the API, against a real PostgreSQL, with the fake provider
// (counted) and Stripe and Paystack through their local stand-ins.

const WEBHOOK_SECRET = 'whsec_refunds';
const TIMEOUT_MS = 1000;
let t: TestContext;
let stripe: StripeStandIn;
let paystack: PaystackStandIn;
let catalog: Catalog;
let customer: TestUser;
let other: TestUser;
let admin: TestUser;
let vendorUser: TestUser;
const fakeRefundCalls = { refund: 0, findRefund: 0 };

beforeAll(async () => {
  [stripe, paystack] = await Promise.all([startStripeStandIn(), startPaystackStandIn()]);
  t = await createTestContext({ env: { ...standInProviderEnv(stripe, paystack), STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, PAYMENT_TIMEOUT_MS: String(TIMEOUT_MS) } });
  // Count the fake provider's refund calls: the app and the services share this providers object.
  const fake = t.services.payments.fake!;
  const counting: PaymentProvider = {
    ...fake,
    refund: (request) => {
      fakeRefundCalls.refund += 1;
      return fake.refund(request);
    },
    findRefund: (lookup) => {
      fakeRefundCalls.findRefund += 1;
      return fake.findRefund(lookup);
    },
  };
  t.services.payments.fake = counting;
  catalog = await createVendor(t);
  vendorUser = catalog.vendorUser;
  [customer, other, admin] = await Promise.all([t.user('customer'), t.user('customer'), t.user('admin')]);
});
afterAll(async () => {
  await t.close();
  await Promise.all([stripe.close(), paystack.close()]);
});
afterEach(() => {
  t.clock.real();
  stripe.mode = { create: 'normal', retrieve: 'normal', refund: 'normal', refundLookup: 'normal' };
  paystack.mode = { initialize: 'normal', verify: 'normal', refund: 'normal', refundLookup: 'normal' };
  stripe.refundOutcome = 'succeeded';
  paystack.refundOutcome = 'pending';
  stripe.onRefund = null;
  paystack.onRefund = null;
});

const refund = (as: TestUser | null, paymentId: string, payload: unknown = { reason: 'Customer returned the items' }, headers: Record<string, string> = {}) =>
  t.request({ method: 'POST', url: `/api/v1/payments/${paymentId}/refund/`, payload: payload as object, headers, ...(as ? { as } : {}) });

const stripeWebhook = (type: string, object: unknown, id = `evt_${Math.random().toString(36).slice(2)}`) => {
  const body = JSON.stringify({ id, object: 'event', type, data: { object } });
  return t.request({
    method: 'POST',
    url: '/api/v1/payments/webhooks/stripe/',
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripe(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000)) },
    payload: body,
  });
};
const paystackWebhook = (event: string, data: unknown) => {
  const body = JSON.stringify({ event, data });
  return t.request({ method: 'POST', url: '/api/v1/payments/webhooks/paystack/', headers: { 'content-type': 'application/json', 'x-paystack-signature': signPaystack(body, paystack.secretKey) }, payload: body });
};
const paystackRefundEvent = (reference: string, status: 'processed' | 'failed') => {
  const r = paystack.refundFor(reference);
  return { id: r.id, status, transaction_reference: reference, refund_reference: `rf_${r.id}`, amount: r.amount, currency: r.currency, domain: 'test' };
};

/** The stock each product of the order had before it was bought (10 each in the fixtures). */
const bought = (order: PaidOrder) => order.products.map((p) => 10 - order.quantities.get(p.id)!);

describe('POST /payments/{id}/refund/ with the fake provider', () => {
  it("refunds a succeeded payment at once: 200 the payment refunded, the order refunded keeping paid_at, its stock returned, and the customer and vendor told", async () => {
    const order = await paidOrder(t, customer, catalog);
    expect(await stocks(t.db, order.products)).toEqual(bought(order));
    // Warm the catalog cache, so the read after the refund shows it was invalidated.
    const before = await t.request({ method: 'GET', url: `/api/v1/products/${order.products[0]!.id}/` });
    expect(before.json().stock).toBe(bought(order)[0]);
    const calls = fakeRefundCalls.refund;

    const res = await refund(admin, order.payment.id);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: order.payment.id, status: 'refunded', needs_refund: false, refund: { status: 'succeeded', amount: 4500, reason: 'Customer returned the items' } });
    expect(body.refunded_at).toEqual(body.refund.completed_at);
    expect(Date.parse(body.refund.requested_at)).toBeLessThanOrEqual(Date.parse(body.refunded_at));
    expect(fakeRefundCalls.refund).toBe(calls + 1);

    const o = await orderRow(t.db, order.orderId);
    expect(o.status).toBe('refunded');
    expect(o.paid_at).toBeInstanceOf(Date);
    expect(o.refunded_at?.toISOString()).toBe(body.refunded_at);
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
    expect((await t.request({ method: 'GET', url: `/api/v1/products/${order.products[0]!.id}/` })).json().stock).toBe(10);
    expect(await refundRows(t.db, order.payment.id)).toMatchObject([{ status: 'succeeded', amount: 4500, currency: 'USD', requested_by: admin.id, provider_refund_id: expect.stringMatching(/^fake_refund_/) }]);
    expect((await outboxOf(t.db, order.orderId)).map((r) => r.kind)).toEqual(['order_paid', 'order_refunded']);

    const shown = (await t.request({ method: 'GET', url: `/api/v1/orders/${order.orderId}/`, as: customer })).json();
    expect(shown).toMatchObject({ status: 'refunded', refunded_at: body.refunded_at, paid_at: expect.any(String) });
    const mine = (await t.request({ method: 'GET', url: `/api/v1/payments/${order.payment.id}/`, as: customer })).json();
    expect(mine).toMatchObject({ status: 'refunded', refunded_at: body.refunded_at, refund: body.refund });
    expect(mine).not.toHaveProperty('needs_refund');
    const listed = (await t.request({ method: 'GET', url: '/api/v1/payments/?status=refunded', as: admin })).json();
    expect(listed.results.find((p: { id: string }) => p.id === order.payment.id)).toEqual(body);

    await relayOutbox(t.services);
    for (const user of [customer, vendorUser]) {
      const notes = (await t.request({ method: 'GET', url: '/api/v1/notifications/', as: user })).json().results as { kind: string; subject_id: string }[];
      expect(notes.filter((n) => n.kind === 'order_refunded' && n.subject_id === order.orderId), user.role).toHaveLength(1);
    }
  });

  it('answers 202 with refund.status pending for a fake_refund_pending payment; the reconcile job then finishes it through the same code', async () => {
    const order = await paidOrder(t, customer, catalog, { method: 'fake_refund_pending' });
    const res = await refund(admin, order.payment.id);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'succeeded', refunded_at: null, refund: { status: 'pending', amount: 4500, completed_at: null } });
    expect((await orderRow(t.db, order.orderId)).status).toBe('paid');
    expect(await stocks(t.db, order.products)).toEqual(bought(order));

    // Asked again while it is pending: 409, and the provider is not asked.
    const calls = fakeRefundCalls.refund;
    const again = await refund(admin, order.payment.id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'payment_not_refundable', detail: 'A refund of this payment is already pending' });
    expect(fakeRefundCalls.refund).toBe(calls);

    // The provider acknowledged it as pending: the reconcile job's next run finishes it (API.md).
    const later = new Date(Date.now() + 1000);
    t.clock.set(later);
    expect(await JOBS.reconcile.run(t.services, { reconcileAfterSeconds: 300, deliverEmail: null })).toEqual({ 'refunds:refunded': 1 });
    expect(await reconcilePendingRefunds(t.services)).toEqual({});
    const p = (await t.request({ method: 'GET', url: `/api/v1/payments/${order.payment.id}/`, as: admin })).json();
    expect(p).toMatchObject({ status: 'refunded', refunded_at: later.toISOString(), refund: { status: 'succeeded', completed_at: later.toISOString() } });
    expect((await orderRow(t.db, order.orderId)).status).toBe('refunded');
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
    expect((await outboxOf(t.db, order.orderId)).filter((r) => r.kind === 'order_refunded')).toHaveLength(1);
  });

  it('answers 409 payment_not_refundable for a pending, failed or cancelled payment and for one already refunded, changing nothing', async () => {
    const pending = await orderWithPayment(t, customer, catalog, { method: 'fake_pending' });
    const declined = await orderWithPayment(t, other, catalog, { method: 'fake_decline' });
    expect((await settleAndConfirm(t, other, declined.payment.reference)).status).toBe(402);
    const cancelled = await orderWithPayment(t, customer, catalog);
    expect((await t.request({ method: 'POST', url: `/api/v1/orders/${cancelled.orderId}/cancel/`, as: customer })).statusCode).toBe(200);
    for (const [made, status] of [[pending, 'pending'], [declined, 'failed'], [cancelled, 'cancelled']] as const) {
      const res = await refund(admin, made.payment.id);
      expect(res.statusCode, status).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'payment_not_refundable', detail: `The payment is ${status}; only a succeeded payment can be refunded` });
      expect((await paymentRow(t.db, made.payment.id)).status).toBe(status);
      expect(await refundRows(t.db, made.payment.id)).toEqual([]);
    }
    const done = await paidOrder(t, customer, catalog);
    expect((await refund(admin, done.payment.id)).statusCode).toBe(200);
    const twice = await refund(admin, done.payment.id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ code: 'payment_not_refundable' });
    expect(await refundRows(t.db, done.payment.id)).toHaveLength(1);
    expect(await stocks(t.db, done.products)).toEqual([10, 10]);
  });

  it('answers 403 to customers (the payer too) and vendors, 401 without a token, 404 for an unknown payment, and changes nothing', async () => {
    const order = await paidOrder(t, customer, catalog);
    for (const who of [customer, other, vendorUser]) {
      const res = await refund(who, order.payment.id);
      expect(res.statusCode, who.role).toBe(403);
      expect(res.json()).toMatchObject({ code: 'forbidden' });
    }
    expect((await refund(null, order.payment.id)).statusCode).toBe(401);
    const unknown = await refund(admin, '00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'not_found' });
    expect((await paymentRow(t.db, order.payment.id)).status).toBe('succeeded');
    expect(await refundRows(t.db, order.payment.id)).toEqual([]);
    // Ids are compared case-insensitively.
    expect((await refund(admin, order.payment.id.toUpperCase())).statusCode).toBe(200);
  });

  it('takes a body {reason} of 1 to 500 characters: missing, empty, too long, with U+0000, or with unknown fields is 400 naming the field', async () => {
    const order = await paidOrder(t, customer, catalog);
    const cases: [unknown, string][] = [
      [{}, 'reason'],
      [{ reason: '' }, 'reason'],
      [{ reason: '   ' }, 'reason'],
      [{ reason: 'x'.repeat(501) }, 'reason'],
      [{ reason: 'bad\u0000byte' }, 'reason'],
      [{ reason: 'ok', amount: 1 }, 'amount'],
    ];
    for (const [payload, path] of cases) {
      const res = await refund(admin, order.payment.id, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path }] });
    }
    expect((await refund(admin, 'not-a-uuid')).statusCode).toBe(400);
    expect(await refundRows(t.db, order.payment.id)).toEqual([]);
    const longest = await refund(admin, order.payment.id, { reason: 'x'.repeat(500) });
    expect(longest.statusCode).toBe(200);
    expect(longest.json().refund.reason).toHaveLength(500);
  });

  it('replays the first answer for the same Idempotency-Key without asking the provider again; the key with another reason is 422', async () => {
    const order = await paidOrder(t, customer, catalog);
    const headers = { 'idempotency-key': `refund-${order.payment.id}` };
    const first = await refund(admin, order.payment.id, { reason: 'Duplicate order' }, headers);
    expect(first.statusCode).toBe(200);
    const calls = fakeRefundCalls.refund;
    const again = await refund(admin, order.payment.id, { reason: 'Duplicate order' }, headers);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const reused = await refund(admin, order.payment.id, { reason: 'Another reason' }, headers);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
    expect(fakeRefundCalls.refund).toBe(calls);
    expect(await refundRows(t.db, order.payment.id)).toHaveLength(1);
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
  });

  it('picks up the pending refund of a request with the same key that died long ago, asking the provider again under its refund id', async () => {
    const order = await paidOrder(t, customer, catalog);
    const key = `died-${order.payment.id}`;
    const diedAt = new Date(Date.now() - 10 * TIMEOUT_MS);
    const refundId = '00000000-0000-4000-8000-0000000000d1';
    await t.db
      .insertInto('refunds')
      .values({ id: refundId, payment_id: order.payment.id, amount: 4500, currency: 'USD', status: 'pending', reason: 'Wrong size', requested_by: admin.id, idempotency_key: key, requested_at: diedAt, updated_at: diedAt })
      .execute();
    const calls = { ...fakeRefundCalls };
    expect((await refund(admin, order.payment.id, { reason: 'Another reason' }, { 'idempotency-key': key })).json().code).toBe('idempotency_key_reused');
    const res = await refund(admin, order.payment.id, { reason: 'Wrong size' }, { 'idempotency-key': key });
    expect(res.statusCode).toBe(200);
    expect(fakeRefundCalls.findRefund).toBe(calls.findRefund + 1);
    expect(fakeRefundCalls.refund).toBe(calls.refund);
    expect(await refundRows(t.db, order.payment.id)).toMatchObject([{ id: refundId, status: 'succeeded' }]);
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
    expect((await refund(admin, order.payment.id, { reason: 'Wrong size' }, { 'idempotency-key': key })).headers['idempotent-replayed']).toBe('true');
  });

  it('stores a 409 payment_not_refundable under the Idempotency-Key and replays it', async () => {
    const made = await orderWithPayment(t, customer, catalog, { method: 'fake_pending' });
    const headers = { 'idempotency-key': `refused-${made.payment.id}` };
    const first = await refund(admin, made.payment.id, undefined, headers);
    expect(first.statusCode).toBe(409);
    const again = await refund(admin, made.payment.id, undefined, headers);
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });
});

describe('a late payment flagged needs_refund', () => {
  /** A payment that succeeded after its order's payment_due_by: recorded as succeeded and flagged for refund. */
  async function latePayment() {
    const made = await orderWithPayment(t, customer, catalog);
    t.clock.set(new Date(Date.now() + (t.config.PAYMENT_DUE_SECONDS + 60) * 1000));
    const confirmed = await settleAndConfirm(t, customer, made.payment.reference);
    expect(confirmed.status).toBe(409);
    expect(confirmed.body.code).toBe('order_not_payable');
    expect(await paymentRow(t.db, made.payment.id)).toMatchObject({ status: 'succeeded', needs_refund: true });
    return made;
  }

  it('is refunded and unflagged, leaving its expired order, its stock (returned once, by the expiry) and its notifications as they were', async () => {
    const made = await latePayment();
    expect(await expireOverdueOrders(t.services, { now: t.clock.now() })).toContain(made.orderId);
    const order = await orderRow(t.db, made.orderId);
    expect(order.status).toBe('expired');
    expect(await stocks(t.db, made.products)).toEqual([10, 10]);
    const outbox = await outboxOf(t.db, made.orderId);

    const res = await refund(admin, made.payment.id, { reason: 'Paid after the order expired' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'refunded', needs_refund: false, refund: { status: 'succeeded' } });
    expect(await orderRow(t.db, made.orderId)).toEqual(order);
    expect(await stocks(t.db, made.products)).toEqual([10, 10]);
    expect(await outboxOf(t.db, made.orderId)).toEqual(outbox);
    const flagged = (await t.request({ method: 'GET', url: '/api/v1/payments/?needs_refund=true', as: admin })).json().results as { id: string }[];
    expect(flagged.map((p) => p.id)).not.toContain(made.payment.id);
  });

  it('is refunded and unflagged, leaving its cancelled order as it was', async () => {
    const made = await latePayment();
    expect((await t.request({ method: 'POST', url: `/api/v1/orders/${made.orderId}/cancel/`, as: customer })).statusCode).toBe(200);
    const order = await orderRow(t.db, made.orderId);
    expect(order.status).toBe('cancelled');
    const res = await refund(admin, made.payment.id);
    expect(res.statusCode).toBe(200);
    expect(await paymentRow(t.db, made.payment.id)).toMatchObject({ status: 'refunded', needs_refund: false });
    expect(await orderRow(t.db, made.orderId)).toEqual(order);
    expect(await stocks(t.db, made.products)).toEqual([10, 10]);
  });
});

describe('Stripe refunds through the stand-in', () => {
  it('refunds through POST /v1/refunds with the payment_intent and our refund id as Idempotency-Key: 200', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    const res = await refund(admin, order.payment.id);
    expect(res.statusCode).toBe(200);
    const [row] = await refundRows(t.db, order.payment.id);
    const sent = stripe.requests.filter((r) => r.path === '/v1/refunds').at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', idempotencyKey: row!.id, contentType: 'application/x-www-form-urlencoded', authorization: `Bearer ${stripe.secretKey}` });
    const form = new URLSearchParams(sent.body);
    expect(form.get('payment_intent')).toBe(stripe.intentFor(order.payment.reference).id);
    expect(form.get('metadata[refund_id]')).toBe(row!.id);
    expect(row).toMatchObject({ status: 'succeeded', provider_refund_id: stripe.refundFor(order.payment.reference).id });
    expect((await orderRow(t.db, order.orderId)).status).toBe('refunded');
  });

  it('answers 502 provider_error when Stripe refuses, changing nothing; the same request succeeds once Stripe accepts', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    stripe.refundOutcome = 'refuse';
    const refused = await refund(admin, order.payment.id, undefined, { 'idempotency-key': `s502-${order.payment.id}` });
    expect(refused.statusCode).toBe(502);
    expect(refused.json()).toMatchObject({ status: 502, code: 'provider_error' });
    expect(await refundRows(t.db, order.payment.id)).toEqual([]);
    expect(await paymentRow(t.db, order.payment.id)).toMatchObject({ status: 'succeeded', refunded_at: null });
    expect((await orderRow(t.db, order.orderId)).status).toBe('paid');
    expect(await stocks(t.db, order.products)).toEqual(bought(order));
    // A refund that fails at once is a refusal too.
    stripe.refundOutcome = 'failed';
    expect((await refund(admin, order.payment.id)).statusCode).toBe(502);
    expect(await refundRows(t.db, order.payment.id)).toEqual([]);
    // 5xx answers are not stored: the same key may be retried.
    stripe.refundOutcome = 'succeeded';
    const retried = await refund(admin, order.payment.id, undefined, { 'idempotency-key': `s502-${order.payment.id}` });
    expect(retried.statusCode).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
  });

  it('leaves the refund pending (202) when Stripe does not answer; the reconcile job asks again under the same refund id and finishes it once', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    stripe.mode.refund = 'hang';
    const res = await refund(admin, order.payment.id);
    expect(res.statusCode).toBe(202);
    expect(res.json().refund).toMatchObject({ status: 'pending' });
    stripe.mode.refund = 'normal';
    const [row] = await refundRows(t.db, order.payment.id);
    // Stripe never made the refund (the request hung before it); the job finds none for the intent and
    // asks again under the same refund id, which Stripe would also have answered from its idempotency store.
    expect(await reconcilePendingRefunds(t.services, { now: new Date(Date.now() + 3 * TIMEOUT_MS) })).toEqual({ refunded: 1 });
    expect(await refundRows(t.db, order.payment.id)).toMatchObject([{ id: row!.id, status: 'succeeded', provider_refund_id: stripe.refundFor(order.payment.reference).id }]);
    expect([...stripe.refunds.values()].filter((r) => r.payment_intent === stripe.intentFor(order.payment.reference).id)).toHaveLength(1);
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
  });

  it('finishes a pending refund on refund.updated, applies a redelivery once, and records a charge.refunded made in the dashboard', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    stripe.refundOutcome = 'pending';
    expect((await refund(admin, order.payment.id)).statusCode).toBe(202);
    const r = stripe.refundFor(order.payment.reference);
    r.status = 'succeeded';
    const event = `evt_ru_${r.id}`;
    const first = await stripeWebhook('refund.updated', r, event);
    expect(first.json()).toEqual({ received: true, outcome: 'refunded' });
    expect((await stripeWebhook('refund.updated', r, event)).json()).toEqual({ received: true, outcome: 'duplicate' });
    // charge.refunded for the same refund is another event, and changes nothing more.
    expect((await stripeWebhook('charge.refunded', stripe.chargeOf(order.payment.reference))).json()).toEqual({ received: true, outcome: 'no_change' });
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
    expect((await outboxOf(t.db, order.orderId)).filter((o) => o.kind === 'order_refunded')).toHaveLength(1);

    // A refund nobody asked for here: the charge arrives refunded in full.
    const dashboard = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    const intent = stripe.intentFor(dashboard.payment.reference);
    stripe.refunds.set('re_dashboard', { id: 're_dashboard', object: 'refund', amount: intent.amount, currency: intent.currency, payment_intent: intent.id, charge: 'ch_x', status: 'succeeded', failure_reason: null, metadata: {} });
    const charge = { ...stripe.chargeOf(dashboard.payment.reference), metadata: {} };
    expect((await stripeWebhook('charge.refunded', charge)).json()).toEqual({ received: true, outcome: 'refunded' });
    expect(await refundRows(t.db, dashboard.payment.id)).toMatchObject([{ status: 'succeeded', requested_by: null, reason: 'Refunded at the payment provider', provider_refund_id: 're_dashboard' }]);
    expect((await orderRow(t.db, dashboard.orderId)).status).toBe('refunded');
    expect(await stocks(t.db, dashboard.products)).toEqual([10, 10]);
  });

  it('marks the refund failed on a refund.updated failure, leaving the payment succeeded and the order paid; it may be asked again', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    stripe.refundOutcome = 'pending';
    expect((await refund(admin, order.payment.id)).statusCode).toBe(202);
    const r = stripe.refundFor(order.payment.reference);
    r.status = 'failed';
    r.failure_reason = 'lost_or_stolen_card';
    expect((await stripeWebhook('refund.updated', r)).json()).toEqual({ received: true, outcome: 'refund_failed' });
    const p = (await t.request({ method: 'GET', url: `/api/v1/payments/${order.payment.id}/`, as: admin })).json();
    expect(p).toMatchObject({ status: 'succeeded', refunded_at: null, refund: { status: 'failed', completed_at: expect.any(String) } });
    expect((await orderRow(t.db, order.orderId)).status).toBe('paid');
    expect(await stocks(t.db, order.products)).toEqual(bought(order));
    stripe.refundOutcome = 'succeeded';
    expect((await refund(admin, order.payment.id)).statusCode).toBe(200);
    expect((await refundRows(t.db, order.payment.id)).map((x) => x.status)).toEqual(['failed', 'succeeded']);
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
  });
});

describe('Paystack refunds through the stand-in', () => {
  it('queues the refund with POST /refund {transaction} (202), and refund.processed finishes it once', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'paystack', paystack });
    const res = await refund(admin, order.payment.id);
    expect(res.statusCode).toBe(202);
    const sent = paystack.requests.filter((r) => r.path === '/refund').at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', authorization: `Bearer ${paystack.secretKey}` });
    expect(JSON.parse(sent.body)).toMatchObject({ transaction: order.payment.reference, amount: 4500, currency: 'USD' });
    const ps = paystack.refundFor(order.payment.reference);
    expect(await refundRows(t.db, order.payment.id)).toMatchObject([{ status: 'pending', provider_refund_id: String(ps.id) }]);

    paystack.settleRefund(order.payment.reference, 'processed');
    const data = paystackRefundEvent(order.payment.reference, 'processed');
    expect((await paystackWebhook('refund.processed', data)).json()).toEqual({ received: true, outcome: 'refunded' });
    expect((await paystackWebhook('refund.processed', data)).json()).toEqual({ received: true, outcome: 'duplicate' });
    expect(await paymentRow(t.db, order.payment.id)).toMatchObject({ status: 'refunded' });
    expect((await orderRow(t.db, order.orderId)).status).toBe('refunded');
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
    expect((await outboxOf(t.db, order.orderId)).filter((o) => o.kind === 'order_refunded')).toHaveLength(1);
  });

  it('marks the refund failed on refund.failed and lets it be asked again; the reconcile job finishes the new one from GET /refund/:id', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'paystack', paystack });
    expect((await refund(admin, order.payment.id)).statusCode).toBe(202);
    paystack.settleRefund(order.payment.reference, 'failed');
    expect((await paystackWebhook('refund.failed', paystackRefundEvent(order.payment.reference, 'failed'))).json()).toEqual({ received: true, outcome: 'refund_failed' });
    expect(await paymentRow(t.db, order.payment.id)).toMatchObject({ status: 'succeeded' });
    expect((await orderRow(t.db, order.orderId)).status).toBe('paid');

    expect((await refund(admin, order.payment.id)).statusCode).toBe(202);
    paystack.settleRefund(order.payment.reference, 'processed');
    expect(await reconcilePendingRefunds(t.services, { now: new Date(Date.now() + 3 * TIMEOUT_MS) })).toEqual({ refunded: 1 });
    expect(paystack.requests.at(-1)).toMatchObject({ method: 'GET', path: `/refund/${paystack.refundFor(order.payment.reference).id}` });
    expect((await refundRows(t.db, order.payment.id)).map((x) => x.status)).toEqual(['failed', 'succeeded']);
    expect(await stocks(t.db, order.products)).toEqual([10, 10]);
  });

  it('answers 502 provider_error when Paystack refuses the refund, changing nothing', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'paystack', paystack });
    paystack.refundOutcome = 'refuse';
    const res = await refund(admin, order.payment.id);
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'provider_error' });
    expect(await refundRows(t.db, order.payment.id)).toEqual([]);
    expect(await paymentRow(t.db, order.payment.id)).toMatchObject({ status: 'succeeded' });
  });
});

describe('the database', () => {
  it('refuses a second refund in flight for a payment, and a refund of another amount than the payment', async () => {
    const order = await insertOrder(t.db, customer.id, { total: 1234 });
    const made = await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id }, as: customer });
    const paymentId = made.json().id as string;
    await settleAndConfirm(t, customer, made.json().reference);
    const row = (id: string, status: 'pending' | 'succeeded' | 'failed', amount = 1234) => ({
      id,
      payment_id: paymentId,
      amount,
      currency: 'USD',
      status,
      reason: 'r',
      requested_at: new Date(),
      completed_at: status === 'pending' ? null : new Date(),
      updated_at: new Date(),
    });
    await t.db.insertInto('refunds').values(row('00000000-0000-4000-8000-00000000000a', 'failed')).execute();
    await t.db.insertInto('refunds').values(row('00000000-0000-4000-8000-00000000000b', 'pending')).execute();
    await expect(t.db.insertInto('refunds').values(row('00000000-0000-4000-8000-00000000000c', 'pending')).execute()).rejects.toMatchObject({ code: '23505', constraint: 'refunds_one_active_per_payment' });
    await expect(t.db.insertInto('refunds').values(row('00000000-0000-4000-8000-00000000000d', 'failed', 1235)).execute()).rejects.toMatchObject({ code: '23503' });
    await expect(t.db.updateTable('orders').set({ status: 'refunded' }).where('id', '=', order.id).execute()).rejects.toMatchObject({ code: '23514' });
  });
});

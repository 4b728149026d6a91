import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPaystack, signStripe } from '../../shell/payments/signatures.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { insertOrder, orderState, paymentsOf, setOrderStatus, standInProviderEnv } from '../support/payment-fixtures.js';
import { startPaystackStandIn, type PaystackStandIn } from '../support/paystack-stand-in.js';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in.js';

const WEBHOOK_SECRET = 'whsec_test_secret';
let t: TestContext;
let stripe: StripeStandIn;
let paystack: PaystackStandIn;
let customer: TestUser;

beforeAll(async () => {
  [stripe, paystack] = await Promise.all([startStripeStandIn(), startPaystackStandIn()]);
  t = await createTestContext({ env: { ...standInProviderEnv(stripe, paystack), STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  customer = await t.user('customer');
});
afterAll(async () => {
  await t.close();
  await Promise.all([stripe.close(), paystack.close()]);
});

async function stripePayment(total = 9900) {
  const order = await insertOrder(t.db, customer.id, { total });
  const res = await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id, provider: 'stripe' }, as: customer });
  expect(res.statusCode).toBe(201);
  const payment = res.json() as { id: string; reference: string };
  return { order, payment, intent: stripe.intentFor(payment.reference) };
}

let eventSeq = 0;
function stripeEvent(type: string, object: unknown, id = `evt_${++eventSeq}_${Date.now()}`) {
  return JSON.stringify({ id, object: 'event', type, api_version: '2024-06-20', created: Math.floor(Date.now() / 1000), data: { object } });
}
const nowSeconds = () => Math.floor(Date.now() / 1000);

function deliverStripe(body: string, signature = signStripe(body, WEBHOOK_SECRET, nowSeconds())) {
  return t.request({ method: 'POST', url: '/api/v1/payments/webhooks/stripe/', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, payload: body });
}
function deliverPaystack(body: string, signature = signPaystack(body, paystack.secretKey)) {
  return t.request({ method: 'POST', url: '/api/v1/payments/webhooks/paystack/', headers: { 'content-type': 'application/json', 'x-paystack-signature': signature }, payload: body });
}

const eventRows = (reference: string) => t.db.selectFrom('webhook_events').selectAll().where('reference', '=', reference).execute();

describe('Stripe webhooks', () => {
  it('applies payment_intent.succeeded: payment succeeded, order paid, event recorded', async () => {
    const { order, payment, intent } = await stripePayment();
    const body = stripeEvent('payment_intent.succeeded', { ...stripe.settle(payment.reference, 'succeeded') });
    const res = await deliverStripe(body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, outcome: 'paid' });
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'succeeded', provider_payment_id: intent.id });
    expect((await orderState(t.db, order.id)).status).toBe('paid');
    const events = await eventRows(payment.reference);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ provider: 'stripe', event_type: 'payment_intent.succeeded', outcome: 'paid' });
  });

  it('applies the same event delivered 5 times at once exactly once', async () => {
    const { order, payment } = await stripePayment();
    const body = stripeEvent('payment_intent.succeeded', { ...stripe.settle(payment.reference, 'succeeded') });
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliverStripe(body)));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.json().outcome).sort()).toEqual(['duplicate', 'duplicate', 'duplicate', 'duplicate', 'paid']);
    const rows = await paymentsOf(t.db, order.id);
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(1);
    expect(await eventRows(payment.reference)).toHaveLength(1);
    const o = await orderState(t.db, order.id);
    expect(o.status).toBe('paid');
    // A later redelivery is still a no-op that answers 200.
    const later = await deliverStripe(body);
    expect(later.json()).toEqual({ received: true, outcome: 'duplicate' });
    expect(await orderState(t.db, order.id)).toEqual(o);
  });

  it('refuses a forged signature, a stale timestamp, a tampered body and a missing signature with 401, changing nothing', async () => {
    const { order, payment } = await stripePayment();
    const body = stripeEvent('payment_intent.succeeded', { ...stripe.settle(payment.reference, 'succeeded') });
    const tampered = body.replace('"succeeded"', '"succeeded" ');
    const attempts = [
      deliverStripe(body, signStripe(body, 'whsec_wrong', nowSeconds())),
      deliverStripe(body, signStripe(body, WEBHOOK_SECRET, nowSeconds() - 301)),
      deliverStripe(body, signStripe(body, WEBHOOK_SECRET, nowSeconds() + 301)),
      deliverStripe(tampered, signStripe(body, WEBHOOK_SECRET, nowSeconds())),
      deliverStripe(body, `t=${nowSeconds()},v1=${'0'.repeat(64)}`),
      deliverStripe(body, 'garbage'),
      t.request({ method: 'POST', url: '/api/v1/payments/webhooks/stripe/', headers: { 'content-type': 'application/json' }, payload: body }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('unauthenticated');
    }
    expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('pending');
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
    expect(await eventRows(payment.reference)).toHaveLength(0);
  });

  it('accepts a signature header carrying several v1 values when one of them is valid', async () => {
    const { order, payment } = await stripePayment();
    const body = stripeEvent('payment_intent.succeeded', { ...stripe.settle(payment.reference, 'succeeded') });
    const t0 = nowSeconds();
    const valid = signStripe(body, WEBHOOK_SECRET, t0).split('v1=')[1];
    const res = await deliverStripe(body, `t=${t0},v1=${'a'.repeat(64)},v1=${valid},v0=${'b'.repeat(64)}`);
    expect(res.statusCode).toBe(200);
    expect((await orderState(t.db, order.id)).status).toBe('paid');
  });

  it('fails the payment on a success with the wrong amount, flags it for refund, and leaves the order unpaid', async () => {
    const { order, payment } = await stripePayment(9900);
    const intent = stripe.settle(payment.reference, 'succeeded', { amountReceived: 100 });
    const res = await deliverStripe(stripeEvent('payment_intent.succeeded', { ...intent }));
    expect(res.json()).toEqual({ received: true, outcome: 'failed' });
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'failed', failure_reason: 'amount_mismatch', needs_refund: true });
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
  });

  it('fails the payment on a success in another currency', async () => {
    const { order, payment } = await stripePayment();
    const intent = { ...stripe.settle(payment.reference, 'succeeded'), currency: 'eur' };
    expect((await deliverStripe(stripeEvent('payment_intent.succeeded', intent))).json().outcome).toBe('failed');
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'failed', failure_reason: 'currency_mismatch' });
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
  });

  it('fails the payment on payment_intent.payment_failed', async () => {
    const { order, payment } = await stripePayment();
    const res = await deliverStripe(stripeEvent('payment_intent.payment_failed', { ...stripe.settle(payment.reference, 'declined') }));
    expect(res.json().outcome).toBe('failed');
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'failed', failure_reason: 'generic_decline' });
  });

  it('records and ignores events for unknown references and event types that settle nothing (200)', async () => {
    const unknown = stripeEvent('payment_intent.succeeded', { id: 'pi_x', object: 'payment_intent', status: 'succeeded', amount: 5, amount_received: 5, currency: 'usd', metadata: { reference: 'nx_unknown' } });
    expect((await deliverStripe(unknown)).json()).toEqual({ received: true, outcome: 'unknown_reference' });
    const { order, payment } = await stripePayment();
    const created = stripeEvent('payment_intent.created', { ...stripe.intentFor(payment.reference) });
    expect((await deliverStripe(created)).json()).toEqual({ received: true, outcome: 'ignored_event_type' });
    expect(await eventRows('nx_unknown')).toHaveLength(1);
    expect((await eventRows(payment.reference))[0]).toMatchObject({ outcome: 'ignored_event_type' });
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
  });

  it('records a late success for an expired order: succeeded with needs_refund, order stays expired', async () => {
    const { order, payment } = await stripePayment();
    await setOrderStatus(t.db, order.id, 'expired');
    const res = await deliverStripe(stripeEvent('payment_intent.succeeded', { ...stripe.settle(payment.reference, 'succeeded') }));
    expect(res.json().outcome).toBe('flagged_for_refund');
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'succeeded', needs_refund: true });
    expect(await orderState(t.db, order.id)).toEqual({ status: 'expired', paid_at: null });
  });

  it('records a late success for the payment of an order cancelled through the API: the payment stays cancelled, flagged for refund, the order stays cancelled', async () => {
    const { order, payment } = await stripePayment();
    expect((await t.request({ method: 'POST', url: `/api/v1/orders/${order.id}/cancel/`, as: customer })).statusCode).toBe(200);
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'cancelled', needs_refund: false });
    const res = await deliverStripe(stripeEvent('payment_intent.succeeded', { ...stripe.settle(payment.reference, 'succeeded') }));
    expect(res.json()).toEqual({ received: true, outcome: 'flagged_for_refund' });
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'cancelled', needs_refund: true });
    expect(await orderState(t.db, order.id)).toEqual({ status: 'cancelled', paid_at: null });
    expect((await eventRows(payment.reference))[0]).toMatchObject({ outcome: 'flagged_for_refund' });
  });

  it('answers 400 for a validly signed body that is not JSON or not an event', async () => {
    expect((await deliverStripe('{"id": ')).json().code).toBe('malformed_json');
    expect((await deliverStripe('{"hello": "world"}')).statusCode).toBe(400);
  });
});

describe('Paystack webhooks', () => {
  async function paystackPayment(total = 250_000) {
    const order = await insertOrder(t.db, customer.id, { total, currency: 'NGN' });
    const res = await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id, provider: 'paystack' }, as: customer });
    expect(res.statusCode).toBe(201);
    return { order, payment: res.json() as { reference: string } };
  }
  const chargeSuccess = (reference: string, amount: number, id = 90_000 + ++eventSeq) =>
    JSON.stringify({ event: 'charge.success', data: { id, domain: 'test', status: 'success', reference, amount, currency: 'NGN', gateway_response: 'Successful', channel: 'card' } });

  it('applies charge.success signed with x-paystack-signature, once however often it is delivered', async () => {
    const { order, payment } = await paystackPayment();
    const body = chargeSuccess(payment.reference, 250_000);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliverPaystack(body)));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(answers.filter((a) => a.json().outcome === 'paid')).toHaveLength(1);
    expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('succeeded');
    expect((await orderState(t.db, order.id)).status).toBe('paid');
    expect(await eventRows(payment.reference)).toHaveLength(1);
  });

  it('refuses a bad or missing x-paystack-signature with 401, changing nothing', async () => {
    const { order, payment } = await paystackPayment();
    const body = chargeSuccess(payment.reference, 250_000);
    expect((await deliverPaystack(body, signPaystack(body, 'sk_wrong'))).statusCode).toBe(401);
    expect((await deliverPaystack(body.replace('250000', '250001'), signPaystack(body, paystack.secretKey))).statusCode).toBe(401);
    expect((await t.request({ method: 'POST', url: '/api/v1/payments/webhooks/paystack/', headers: { 'content-type': 'application/json' }, payload: body })).statusCode).toBe(401);
    expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('pending');
    expect(await eventRows(payment.reference)).toHaveLength(0);
  });

  it('fails the payment on a charge.success with the wrong amount', async () => {
    const { order, payment } = await paystackPayment(250_000);
    expect((await deliverPaystack(chargeSuccess(payment.reference, 2_500))).json().outcome).toBe('failed');
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'failed', failure_reason: 'amount_mismatch', needs_refund: true });
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentProvider } from '../../shell/payments/provider.js';
import { signPaystack, signStripe } from '../../shell/payments/signatures.js';
import { createVendor, type Catalog } from '../support/commerce-fixtures.js';
import { createTestContext, listenOnFreePort, type TestContext, type TestUser } from '../support/harness.js';
import { standInProviderEnv } from '../support/payment-fixtures.js';
import { startPaystackStandIn, type PaystackStandIn } from '../support/paystack-stand-in.js';
import { outboxOf, paidOrder, paymentRow, refundRows, stocks, type PaidOrder } from '../support/refund-fixtures.js';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in.js';

// Real parallel HTTP requests against a listening server, a real PostgreSQL and the providers' stand-ins;
// the assertions are on the database and the stand-ins afterwards.

const WEBHOOK_SECRET = 'whsec_refund_races';
let t: TestContext;
let base: string;
let stripe: StripeStandIn;
let paystack: PaystackStandIn;
let catalog: Catalog;
let customer: TestUser;
let admin: TestUser;
let fakeRefundCalls = 0;

beforeAll(async () => {
  [stripe, paystack] = await Promise.all([startStripeStandIn(), startPaystackStandIn()]);
  t = await createTestContext({ env: { ...standInProviderEnv(stripe, paystack), STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  const fake = t.services.payments.fake!;
  const counting: PaymentProvider = {
    ...fake,
    refund: (request) => {
      fakeRefundCalls += 1;
      return fake.refund(request);
    },
  };
  t.services.payments.fake = counting;
  base = await listenOnFreePort(t);
  catalog = await createVendor(t);
  [customer, admin] = await Promise.all([t.user('customer'), t.user('admin')]);
});
afterAll(async () => {
  await t.close();
  await Promise.all([stripe.close(), paystack.close()]);
});
afterEach(() => {
  stripe.onRefund = null;
  paystack.onRefund = null;
  stripe.refundOutcome = 'succeeded';
  paystack.refundOutcome = 'pending';
});

async function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body: (await res.json()) as Record<string, unknown> & { code?: string } };
}
const refundAs = (paymentId: string, headers: Record<string, string> = {}) =>
  post(`/payments/${paymentId}/refund/`, { reason: 'Refunded under load' }, { authorization: admin.headers.authorization, ...headers });

/** The database after a refund of `order`: one refund, payment and order refunded, stock back once, one outbox row. */
async function expectRefundedOnce(order: PaidOrder) {
  expect(await refundRows(t.db, order.payment.id)).toMatchObject([{ status: 'succeeded' }]);
  expect(await paymentRow(t.db, order.payment.id)).toMatchObject({ status: 'refunded', needs_refund: false });
  expect((await t.db.selectFrom('orders').select('status').where('id', '=', order.orderId).executeTakeFirstOrThrow()).status).toBe('refunded');
  expect(await stocks(t.db, order.products)).toEqual(order.products.map(() => 10));
  expect((await outboxOf(t.db, order.orderId)).filter((r) => r.kind === 'order_refunded')).toHaveLength(1);
}

describe('concurrent refunds', () => {
  it('gives 10 concurrent refund requests for one Stripe payment, without an Idempotency-Key, one provider refund call, one refund and the stock back once', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    const calls = stripe.refundCalls();
    const answers = await Promise.all(Array.from({ length: 10 }, () => refundAs(order.payment.id)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'payment_not_refundable')).toHaveLength(9);
    expect(stripe.refundCalls() - calls).toBe(1);
    expect([...stripe.refunds.values()].filter((r) => r.payment_intent === stripe.intentFor(order.payment.reference).id)).toHaveLength(1);
    await expectRefundedOnce(order);
  });

  it('gives 10 concurrent refund requests for one Stripe payment with the same Idempotency-Key one provider call; the others are in flight or replays of the one answer', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    const calls = stripe.refundCalls();
    const headers = { 'idempotency-key': `load-${order.payment.id}` };
    const answers = await Promise.all(Array.from({ length: 10 }, () => refundAs(order.payment.id, headers)));
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.filter((a) => !a.replayed)).toHaveLength(1);
    for (const a of answers) {
      if (a.status === 200) expect(a.body).toEqual(ok[0]!.body);
      else expect([a.status, a.body.code]).toEqual([409, 'idempotency_request_in_flight']);
    }
    expect(stripe.refundCalls() - calls).toBe(1);
    await expectRefundedOnce(order);
    // Once the first has answered, the key replays it.
    const later = await refundAs(order.payment.id, headers);
    expect(later).toMatchObject({ status: 200, replayed: true, body: ok[0]!.body });
    expect(stripe.refundCalls() - calls).toBe(1);
  });

  it('gives 10 concurrent refund requests for one fake payment, with and without one key, one provider call each time', async () => {
    for (const headers of [{}, { 'idempotency-key': `fake-load-${Date.now()}` }] as Record<string, string>[]) {
      const order = await paidOrder(t, customer, catalog);
      const calls = fakeRefundCalls;
      const answers = await Promise.all(Array.from({ length: 10 }, () => refundAs(order.payment.id, headers)));
      expect(answers.filter((a) => a.status === 200 && !a.replayed)).toHaveLength(1);
      expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
      expect(fakeRefundCalls - calls).toBe(1);
      await expectRefundedOnce(order);
    }
  });

  it('applies a refund racing its own webhook once: charge.refunded delivered while the request waits on Stripe', async () => {
    const order = await paidOrder(t, customer, catalog, { provider: 'stripe', stripe });
    let hooked: { status: number; body: Record<string, unknown> } | null = null;
    stripe.onRefund = async () => {
      // Stripe has made the refund and sends the event before the request gets its answer.
      const body = JSON.stringify({ id: `evt_race_${order.payment.id}`, object: 'event', type: 'charge.refunded', data: { object: stripe.chargeOf(order.payment.reference) } });
      hooked = await post('/payments/webhooks/stripe/', body, { 'stripe-signature': signStripe(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000)) });
    };
    const answer = await refundAs(order.payment.id);
    expect(hooked).toEqual({ status: 200, body: { received: true, outcome: 'refunded' }, replayed: false });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'refunded', refund: { status: 'succeeded' } });
    await expectRefundedOnce(order);
  });

  it('applies a Paystack refund and its refund.processed webhook fired at the same moment once, for each of 6 payments', async () => {
    paystack.refundOutcome = 'processed';
    for (let round = 0; round < 6; round++) {
      const order = await paidOrder(t, customer, catalog, { provider: 'paystack', paystack });
      const event = (id: number) =>
        JSON.stringify({ event: 'refund.processed', data: { id, status: 'processed', transaction_reference: order.payment.reference, refund_reference: `rf_${id}`, amount: 4500, currency: 'USD' } });
      // The webhook is sent as soon as Paystack has the refund, racing the request's own answer.
      let webhook: Promise<{ status: number; body: Record<string, unknown> }> | null = null;
      paystack.onRefund = async (r) => {
        const body = event(r.id);
        webhook = post('/payments/webhooks/paystack/', body, { 'x-paystack-signature': signPaystack(body, paystack.secretKey) });
      };
      const answer = await refundAs(order.payment.id);
      const hooked = await webhook!;
      expect(answer.status).toBe(200);
      expect(hooked.status).toBe(200);
      expect(['refunded', 'no_change']).toContain(hooked.body.outcome);
      await expectRefundedOnce(order);
      const events = await t.db.selectFrom('webhook_events').select('outcome').where('reference', '=', order.payment.reference).where('event_type', '=', 'refund.processed').execute();
      expect(events).toEqual([{ outcome: hooked.body.outcome }]);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPaystack, signStripe } from '../../shell/payments/signatures.js';
import { createTestContext, listenOnFreePort, type TestContext, type TestUser } from '../support/harness.js';
import { insertOrder, orderState, paymentsOf, standInProviderEnv } from '../support/payment-fixtures.js';
import { startPaystackStandIn, type PaystackStandIn } from '../support/paystack-stand-in.js';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in.js';

// Real parallel HTTP requests against a listening server and a real PostgreSQL; assertions on the
// database state afterwards.

const WEBHOOK_SECRET = 'whsec_concurrency';
let t: TestContext;
let base: string;
let stripe: StripeStandIn;
let paystack: PaystackStandIn;
let customer: TestUser;

beforeAll(async () => {
  [stripe, paystack] = await Promise.all([startStripeStandIn(), startPaystackStandIn()]);
  t = await createTestContext({ env: { ...standInProviderEnv(stripe, paystack), STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  base = await listenOnFreePort(t);
  customer = await t.user('customer');
});
afterAll(async () => {
  await t.close();
  await Promise.all([stripe.close(), paystack.close()]);
});

async function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const asCustomer = () => ({ authorization: customer.headers.authorization });

async function initiate(orderId: string, provider: 'stripe' | 'paystack') {
  const res = await post('/payments/initiate/', { order_id: orderId, provider }, asCustomer());
  expect(res.status).toBe(201);
  return res.body as { id: string; reference: string };
}

describe('concurrent payment traffic', () => {
  it('applies a Stripe webhook delivered 5 times in parallel exactly once, for each of 8 orders', async () => {
    for (let round = 0; round < 8; round++) {
      const order = await insertOrder(t.db, customer.id, { total: 4_000 + round });
      const payment = await initiate(order.id, 'stripe');
      const intent = stripe.settle(payment.reference, 'succeeded');
      const body = JSON.stringify({ id: `evt_conc_${round}_${payment.reference}`, object: 'event', type: 'payment_intent.succeeded', data: { object: intent } });
      const signature = signStripe(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000));
      const answers = await Promise.all(Array.from({ length: 5 }, () => post('/payments/webhooks/stripe/', body, { 'stripe-signature': signature })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect(answers.filter((a) => a.body.outcome === 'paid')).toHaveLength(1);

      const rows = await paymentsOf(t.db, order.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.status).toBe('succeeded');
      const o = await orderState(t.db, order.id);
      expect(o.status).toBe('paid');
      expect(o.paid_at).toEqual(rows[0]!.succeeded_at);
      const events = await t.db.selectFrom('webhook_events').select(['outcome']).where('reference', '=', payment.reference).execute();
      expect(events).toEqual([{ outcome: 'paid' }]);
    }
  });

  it('lets a confirm and a webhook for the same payment race: one success, the order paid once', async () => {
    for (let round = 0; round < 8; round++) {
      const order = await insertOrder(t.db, customer.id, { total: 70_000, currency: 'NGN' });
      const payment = await initiate(order.id, 'paystack');
      paystack.settle(payment.reference, 'success');
      const body = JSON.stringify({ event: 'charge.success', data: { id: 5_000 + round, status: 'success', reference: payment.reference, amount: 70_000, currency: 'NGN' } });
      const [confirmed, hooked] = await Promise.all([
        post('/payments/confirm/', { reference: payment.reference }, asCustomer()),
        post('/payments/webhooks/paystack/', body, { 'x-paystack-signature': signPaystack(body, paystack.secretKey) }),
      ]);
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.status).toBe('succeeded');
      expect(hooked.status).toBe(200);
      // Exactly one of the two made the transition; the other saw it done.
      const webhookPaid = hooked.body.outcome === 'paid';
      expect(['paid', 'no_change']).toContain(hooked.body.outcome);

      const rows = await paymentsOf(t.db, order.id);
      expect(rows.map((r) => r.status)).toEqual(['succeeded']);
      const o = await orderState(t.db, order.id);
      expect(o.status).toBe('paid');
      expect(o.paid_at).toEqual(rows[0]!.succeeded_at);
      const events = await t.db.selectFrom('webhook_events').select('outcome').where('reference', '=', payment.reference).execute();
      expect(events).toEqual([{ outcome: webhookPaid ? 'paid' : 'no_change' }]);
    }
  });

  it('gives 10 parallel initiates for one order one pending payment, the same for all', async () => {
    const order = await insertOrder(t.db, customer.id);
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('/payments/initiate/', { order_id: order.id, provider: 'stripe' }, asCustomer())));
    expect(answers.every((a) => a.status === 200 || a.status === 201)).toBe(true);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const rows = await paymentsOf(t.db, order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('pending');
    expect([...stripe.intents.values()].filter((i) => i.metadata.reference === rows[0]!.reference)).toHaveLength(1);
  });
});

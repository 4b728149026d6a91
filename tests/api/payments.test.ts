import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../shell/payments/fake.js';
import type { PaymentProvider } from '../../shell/payments/provider.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { insertOrder, orderState, paymentsOf, setOrderStatus } from '../support/payment-fixtures.js';

let t: TestContext;
let customer: TestUser;
let other: TestUser;
let vendor: TestUser;
let admin: TestUser;

/** The fake provider, counting its calls, so tests can show which answers never reach the provider. */
const providerCalls = { initialize: 0, verify: 0 };
function countingFake(): PaymentProvider {
  const fake = createFakeProvider();
  return {
    ...fake,
    initialize: (input) => {
      providerCalls.initialize += 1;
      return fake.initialize(input);
    },
    verify: (payment) => {
      providerCalls.verify += 1;
      return fake.verify(payment);
    },
  };
}

beforeAll(async () => {
  t = await createTestContext({ deps: { payments: { default: 'fake', fake: countingFake() } } });
  [customer, other, vendor, admin] = await Promise.all([t.user('customer'), t.user('customer'), t.user('vendor'), t.user('admin')]);
});
afterAll(async () => {
  await t.close();
});

const initiate = (as: TestUser, payload: unknown, headers: Record<string, string> = {}) =>
  t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: payload as object, as, headers });
const confirm = (as: TestUser, reference: string, headers: Record<string, string> = {}) =>
  t.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference }, as, headers });

describe('POST /payments/initiate/', () => {
  it("answers 201 with a pending payment for exactly the order's total, no redirect for the fake provider", async () => {
    const order = await insertOrder(t.db, customer.id, { total: 7300 });
    const res = await initiate(customer, { order_id: order.id });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ order_id: order.id, provider: 'fake', amount: 7300, currency: 'USD', status: 'pending', method: null, next_action: null });
    expect(body.reference).toMatch(/^nx_[0-9a-f]{24}$/);
    expect(body).not.toHaveProperty('needs_refund');
    expect(Object.keys(body).sort()).toEqual(['amount', 'created_at', 'currency', 'id', 'method', 'next_action', 'order_id', 'provider', 'reference', 'refund', 'refunded_at', 'status']);
    expect(body).toMatchObject({ refund: null, refunded_at: null });
    const rows = await paymentsOf(t.db, order.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: body.id, status: 'pending', amount: 7300, customer_id: customer.id, provider_payment_id: `fake_${body.reference}` });
  });

  it('returns the same pending payment (200) while one exists for the order', async () => {
    const order = await insertOrder(t.db, customer.id);
    const first = await initiate(customer, { order_id: order.id });
    const second = await initiate(customer, { order_id: order.id, method: 'card' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    expect(await paymentsOf(t.db, order.id)).toHaveLength(1);
  });

  it('refuses a client-chosen amount or any unknown field with 400', async () => {
    const order = await insertOrder(t.db, customer.id);
    const res = await initiate(customer, { order_id: order.id, amount: 1 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'amount', message: 'Unknown field' }] });
    expect(await paymentsOf(t.db, order.id)).toHaveLength(0);
  });

  it('refuses a provider that is not enabled with 400 naming provider', async () => {
    const order = await insertOrder(t.db, customer.id);
    const res = await initiate(customer, { order_id: order.id, provider: 'stripe' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'provider' }] });
    expect((await initiate(customer, { order_id: order.id, provider: 'paypal' })).statusCode).toBe(400);
    expect(await paymentsOf(t.db, order.id)).toHaveLength(0);
  });

  it("answers 404 for another customer's order and for an order that does not exist", async () => {
    const order = await insertOrder(t.db, other.id);
    expect((await initiate(customer, { order_id: order.id })).json()).toMatchObject({ status: 404, code: 'not_found' });
    expect((await initiate(customer, { order_id: '00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    expect(await paymentsOf(t.db, order.id)).toHaveLength(0);
  });

  it('answers 403 to vendors and admins, and 401 without a token', async () => {
    const order = await insertOrder(t.db, customer.id);
    expect((await initiate(vendor, { order_id: order.id })).json()).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await initiate(admin, { order_id: order.id })).statusCode).toBe(403);
    expect((await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id } })).statusCode).toBe(401);
  });

  it('answers 409 order_not_payable for an order past payment_due_by, cancelled, expired or paid', async () => {
    const late = await insertOrder(t.db, customer.id, { dueBy: new Date(Date.now() - 1000) });
    const cancelled = await insertOrder(t.db, customer.id, { status: 'cancelled' });
    const expired = await insertOrder(t.db, customer.id, { status: 'expired' });
    for (const order of [late, cancelled, expired]) {
      const res = await initiate(customer, { order_id: order.id });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('order_not_payable');
      expect(await paymentsOf(t.db, order.id)).toHaveLength(0);
    }
    const paid = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: paid.id })).json();
    expect((await confirm(customer, p.reference)).statusCode).toBe(200);
    expect((await initiate(customer, { order_id: paid.id })).json().code).toBe('order_not_payable');
  });

  it('replays the first response for the same Idempotency-Key, and refuses the key with a different body', async () => {
    const order = await insertOrder(t.db, customer.id);
    const headers = { 'idempotency-key': `init-${order.id}` };
    const first = await initiate(customer, { order_id: order.id }, headers);
    const again = await initiate(customer, { order_id: order.id }, headers);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await insertOrder(t.db, customer.id);
    const reused = await initiate(customer, { order_id: other.id }, headers);
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
    expect(await paymentsOf(t.db, other.id)).toHaveLength(0);
  });

  it('stores a refusal under the Idempotency-Key: the same request again replays the 409 order_not_payable of a paid order with Idempotent-Replayed', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    expect((await confirm(customer, p.reference)).statusCode).toBe(200);
    const headers = { 'idempotency-key': `refused-${order.id}` };
    const first = await initiate(customer, { order_id: order.id }, headers);
    expect(first.statusCode).toBe(409);
    expect(first.json().code).toBe('order_not_payable');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await initiate(customer, { order_id: order.id }, headers);
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.json()).toEqual(first.json());
    const stored = await t.db.selectFrom('idempotency_keys').select(['response_status']).where('user_id', '=', customer.id).where('key', '=', headers['idempotency-key']).execute();
    expect(stored).toEqual([{ response_status: 409 }]);
    expect(await paymentsOf(t.db, order.id)).toHaveLength(1);
  });

  it("stores the 404 for another customer's order under the Idempotency-Key and replays it", async () => {
    const order = await insertOrder(t.db, other.id);
    const headers = { 'idempotency-key': `theirs-${order.id}` };
    const first = await initiate(customer, { order_id: order.id }, headers);
    expect(first.statusCode).toBe(404);
    const again = await initiate(customer, { order_id: order.id }, headers);
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await paymentsOf(t.db, order.id)).toHaveLength(0);
  });

  it('never calls the provider again for a replay', async () => {
    const order = await insertOrder(t.db, customer.id);
    const headers = { 'idempotency-key': `calls-${order.id}` };
    const before = providerCalls.initialize;
    expect((await initiate(customer, { order_id: order.id }, headers)).statusCode).toBe(201);
    expect(providerCalls.initialize).toBe(before + 1);
    const again = await initiate(customer, { order_id: order.id }, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(providerCalls.initialize).toBe(before + 1);
  });

  it('replays the stored 201 even after the payment succeeded and the order was paid', async () => {
    const order = await insertOrder(t.db, customer.id);
    const headers = { 'idempotency-key': `paid-${order.id}` };
    const first = await initiate(customer, { order_id: order.id }, headers);
    await confirm(customer, first.json().reference);
    const again = await initiate(customer, { order_id: order.id }, headers);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(await paymentsOf(t.db, order.id)).toHaveLength(1);
  });
});

describe('POST /payments/confirm/', () => {
  it('approves a fake payment: 200 succeeded, and the order paid in the same transaction', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    const res = await confirm(customer, p.reference);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: p.id, status: 'succeeded', amount: order.total });
    const o = await orderState(t.db, order.id);
    expect(o.status).toBe('paid');
    expect(o.paid_at).not.toBeNull();
    const [row] = await paymentsOf(t.db, order.id);
    expect(row).toMatchObject({ status: 'succeeded', needs_refund: false });
    expect(row!.succeeded_at).not.toBeNull();
  });

  it('answers a second confirm of a succeeded payment with 200 unchanged', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    const first = await confirm(customer, p.reference);
    const paidAt = (await orderState(t.db, order.id)).paid_at;
    const second = await confirm(customer, p.reference);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    expect((await orderState(t.db, order.id)).paid_at).toEqual(paidAt);
  });

  it('declines method fake_decline: 402 payment_failed, payment failed (committed), order still pending_payment', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id, method: 'fake_decline' })).json();
    const res = await confirm(customer, p.reference);
    expect(res.statusCode).toBe(402);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 402, code: 'payment_failed' });
    const [row] = await paymentsOf(t.db, order.id);
    expect(row).toMatchObject({ status: 'failed', failure_reason: 'declined', needs_refund: false });
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
  });

  it('answers 409 payment_not_pending when confirming a failed payment, and a new initiate makes a fresh payment', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id, method: 'fake_decline' })).json();
    await confirm(customer, p.reference);
    const again = await confirm(customer, p.reference);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('payment_not_pending');
    const fresh = await initiate(customer, { order_id: order.id });
    expect(fresh.statusCode).toBe(201);
    expect(fresh.json().reference).not.toBe(p.reference);
    expect((await confirm(customer, fresh.json().reference)).json().status).toBe('succeeded');
    expect((await orderState(t.db, order.id)).status).toBe('paid');
  });

  it('keeps method fake_pending pending: 200 with status pending, order unpaid', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id, method: 'fake_pending' })).json();
    const res = await confirm(customer, p.reference);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: p.id, status: 'pending' });
    expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('pending');
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
  });

  it('records a late success for an order that expired meanwhile: 409 order_not_payable, payment succeeded with needs_refund, order not resurrected', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    await setOrderStatus(t.db, order.id, 'expired');
    const res = await confirm(customer, p.reference);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('order_not_payable');
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'succeeded', needs_refund: true, failure_reason: 'order_not_payable' });
    expect(await orderState(t.db, order.id)).toEqual({ status: 'expired', paid_at: null });

    const list = await t.request({ method: 'GET', url: '/api/v1/payments/?needs_refund=true', as: admin });
    expect(list.statusCode).toBe(200);
    expect(list.json().results).toEqual([expect.objectContaining({ id: p.id, status: 'succeeded', needs_refund: true })]);
  });

  it('cancels a still-pending payment when its order expired meanwhile: 409 order_not_payable', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id, method: 'fake_pending' })).json();
    await setOrderStatus(t.db, order.id, 'expired');
    const res = await confirm(customer, p.reference);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('order_not_payable');
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'cancelled', needs_refund: false, failure_reason: 'order_not_payable' });
    expect((await orderState(t.db, order.id)).status).toBe('expired');
    expect((await confirm(customer, p.reference)).json().code).toBe('payment_not_pending');
  });

  it('records a late success for a cancelled order the same way', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    await setOrderStatus(t.db, order.id, 'cancelled');
    expect((await confirm(customer, p.reference)).statusCode).toBe(409);
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'succeeded', needs_refund: true });
    expect((await orderState(t.db, order.id)).status).toBe('cancelled');
  });

  it("answers 404 for another customer's payment and an unknown reference; admins may confirm; vendors 403", async () => {
    const order = await insertOrder(t.db, other.id);
    const p = (await initiate(other, { order_id: order.id, method: 'fake_pending' })).json();
    expect((await confirm(customer, p.reference)).statusCode).toBe(404);
    expect((await confirm(customer, 'nx_nope')).statusCode).toBe(404);
    expect((await confirm(vendor, p.reference)).statusCode).toBe(403);
    const byAdmin = await confirm(admin, p.reference);
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json()).toMatchObject({ status: 'pending', needs_refund: false });
  });

  it('replays a confirm with the same Idempotency-Key without changing anything', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id, method: 'fake_decline' })).json();
    const headers = { 'idempotency-key': `confirm-${p.reference}` };
    const first = await confirm(customer, p.reference, headers);
    const again = await confirm(customer, p.reference, headers);
    expect(first.statusCode).toBe(402);
    expect(again.statusCode).toBe(402);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });

  it("stores the 404 for another customer's payment under the Idempotency-Key and replays it without asking the provider", async () => {
    const order = await insertOrder(t.db, other.id);
    const p = (await initiate(other, { order_id: order.id })).json();
    const headers = { 'idempotency-key': `confirm-theirs-${p.reference}` };
    const verifies = providerCalls.verify;
    const first = await confirm(customer, p.reference, headers);
    expect(first.statusCode).toBe(404);
    const again = await confirm(customer, p.reference, headers);
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(providerCalls.verify).toBe(verifies);
    expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('pending');
  });

  it('answers 409 payment_not_pending for the payment of an order cancelled through the API, without asking the provider, and replays it under the Idempotency-Key', async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    const cancelled = await t.request({ method: 'POST', url: `/api/v1/orders/${order.id}/cancel/`, as: customer });
    expect(cancelled.statusCode).toBe(200);
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'cancelled', needs_refund: false, failure_reason: 'order_cancelled' });
    const verifies = providerCalls.verify;
    const headers = { 'idempotency-key': `confirm-cancelled-${p.reference}` };
    const first = await confirm(customer, p.reference, headers);
    expect(first.statusCode).toBe(409);
    expect(first.json().code).toBe('payment_not_pending');
    const again = await confirm(customer, p.reference, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(providerCalls.verify).toBe(verifies);
    expect((await paymentsOf(t.db, order.id))[0]).toMatchObject({ status: 'cancelled', needs_refund: false });
    expect(await orderState(t.db, order.id)).toEqual({ status: 'cancelled', paid_at: null });
  });

  it('validates the body: reference required, unknown fields refused', async () => {
    expect((await t.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: {}, as: customer })).statusCode).toBe(400);
    expect((await t.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference: 'x', status: 'succeeded' }, as: customer })).statusCode).toBe(400);
  });
});

describe('GET /payments/ and /payments/{id}/', () => {
  it('lists only the customer their own payments, newest first, cursor-paginated', async () => {
    const reader = await t.user('customer');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const order = await insertOrder(t.db, reader.id);
      ids.push((await initiate(reader, { order_id: order.id })).json().id);
    }
    const theirs = await insertOrder(t.db, other.id);
    await initiate(other, { order_id: theirs.id });

    const page1 = await t.request({ method: 'GET', url: '/api/v1/payments/?limit=2', as: reader });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json();
    expect(body1.results.map((p: { id: string }) => p.id)).toEqual([ids[2], ids[1]]);
    expect(body1.previous).toBeNull();
    expect(body1.next).toMatch(/^http/);
    const page2 = await t.request({ method: 'GET', url: new URL(body1.next).pathname + new URL(body1.next).search, as: reader });
    expect(page2.json().results.map((p: { id: string }) => p.id)).toEqual([ids[0]]);
    expect(page2.json().next).toBeNull();
  });

  it('lists every payment for admins, with needs_refund, and filters by status', async () => {
    const res = await t.request({ method: 'GET', url: '/api/v1/payments/?limit=100', as: admin });
    expect(res.statusCode).toBe(200);
    const results = res.json().results as { customer_id?: string; needs_refund?: boolean; status: string }[];
    const total = await t.db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(results).toHaveLength(Number(total.n));
    expect(results.every((p) => typeof p.needs_refund === 'boolean')).toBe(true);
    const failed = await t.request({ method: 'GET', url: '/api/v1/payments/?status=failed', as: admin });
    expect(failed.json().results.length).toBeGreaterThan(0);
    expect(failed.json().results.every((p: { status: string }) => p.status === 'failed')).toBe(true);
  });

  it('refuses the needs_refund filter to customers (403) and the list to vendors (403)', async () => {
    expect((await t.request({ method: 'GET', url: '/api/v1/payments/?needs_refund=true', as: customer })).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: '/api/v1/payments/', as: vendor })).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: '/api/v1/payments/?limit=0', as: customer })).statusCode).toBe(400);
    expect((await t.request({ method: 'GET', url: '/api/v1/payments/?cursor=forged.x', as: customer })).statusCode).toBe(400);
  });

  it("shows a payment to its customer and to admins; another customer's is 404; vendors 403", async () => {
    const order = await insertOrder(t.db, customer.id);
    const p = (await initiate(customer, { order_id: order.id })).json();
    const own = await t.request({ method: 'GET', url: `/api/v1/payments/${p.id}/`, as: customer });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual(p);
    expect((await t.request({ method: 'GET', url: `/api/v1/payments/${p.id}`, as: admin })).json()).toMatchObject({ id: p.id, needs_refund: false });
    expect((await t.request({ method: 'GET', url: `/api/v1/payments/${p.id}/`, as: other })).statusCode).toBe(404);
    expect((await t.request({ method: 'GET', url: `/api/v1/payments/${p.id}/`, as: vendor })).statusCode).toBe(403);
    expect((await t.request({ method: 'GET', url: '/api/v1/payments/not-a-uuid/', as: customer })).statusCode).toBe(400);
  });
});

describe('webhooks for the fake provider', () => {
  it('has none: 404', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/payments/webhooks/fake/', payload: { id: 'evt_1' } });
    expect(res.statusCode).toBe(404);
    expect((await t.request({ method: 'POST', url: '/api/v1/payments/webhooks/paypal/', payload: {} })).statusCode).toBe(404);
  });
});

describe('the fake provider in production', () => {
  it('is refused by the route even when injected', async () => {
    const { createFakeProvider } = await import('../../shell/payments/fake.js');
    const prod = await createTestContext({
      env: { NODE_ENV: 'production', PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_x', JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64') },
      deps: { payments: { default: 'stripe', fake: createFakeProvider() } },
    });
    try {
      const buyer = await prod.user('customer');
      const order = await insertOrder(prod.db, buyer.id);
      const res = await prod.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id, provider: 'fake' }, as: buyer });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'provider' }] });
      expect(await paymentsOf(prod.db, order.id)).toHaveLength(0);
    } finally {
      await prod.close();
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents every payments route with its tag, security, schemas and error responses', async () => {
    const doc = (await t.request({ method: 'GET', url: '/docs/json' })).json();
    const op = (path: string, method: string) => doc.paths[`/api/v1${path}`]?.[method];
    const routes = [
      ['/payments/initiate/', 'post', ['201', '200', '400', '401', '403', '404', '409', '422', '503']],
      ['/payments/confirm/', 'post', ['200', '400', '401', '402', '403', '404', '409', '422', '503']],
      ['/payments/', 'get', ['200', '400', '401', '403']],
      ['/payments/{id}/', 'get', ['200', '401', '403', '404']],
      ['/payments/webhooks/{provider}/', 'post', ['200', '400', '401', '404']],
      ['/payments/{id}/refund/', 'post', ['200', '202', '400', '401', '403', '404', '409', '422', '502']],
    ] as const;
    for (const [path, method, statuses] of routes) {
      const o = op(path, method);
      expect(o, path).toBeDefined();
      expect(o.tags).toEqual(['payments']);
      expect(o.summary).toBeTruthy();
      expect(o.security, path).toEqual(path.includes('webhooks') ? [] : [{ bearerAuth: [] }]);
      for (const status of statuses) expect(o.responses[status], `${path} ${status}`).toBeDefined();
    }
    const payment = doc.components.schemas.Payment;
    expect(Object.keys(payment.properties).sort()).toEqual(
      ['amount', 'created_at', 'currency', 'id', 'method', 'needs_refund', 'next_action', 'order_id', 'provider', 'reference', 'refund', 'refunded_at', 'status'].sort(),
    );
    expect(payment.properties.needs_refund.description).toMatch(/Admins only/);
    expect(op('/payments/', 'get').parameters.map((p: { name: string }) => p.name)).toContain('needs_refund');
  });
});

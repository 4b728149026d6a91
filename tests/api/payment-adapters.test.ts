import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPaystackProvider } from '../../shell/payments/paystack.js';
import { signPaystack, signStripe, verifyPaystackSignature, verifyStripeSignature } from '../../shell/payments/signatures.js';
import { createStripeProvider } from '../../shell/payments/stripe.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { insertOrder, orderState, paymentsOf, standInProviderEnv } from '../support/payment-fixtures.js';
import { startPaystackStandIn, type PaystackStandIn } from '../support/paystack-stand-in.js';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in.js';

// Short enough to keep the hanging cases quick, long enough for a busy 2-core machine to answer a local stand-in.
const TIMEOUT_MS = 1000;

let stripe: StripeStandIn;
let paystack: PaystackStandIn;

beforeAll(async () => {
  [stripe, paystack] = await Promise.all([startStripeStandIn(), startPaystackStandIn()]);
});
afterAll(async () => {
  await Promise.all([stripe.close(), paystack.close()]);
});
afterEach(() => {
  stripe.mode = { create: 'normal', retrieve: 'normal', refund: 'normal', refundLookup: 'normal' };
  paystack.mode = { initialize: 'normal', verify: 'normal', refund: 'normal', refundLookup: 'normal' };
});

const input = (reference: string, amount = 150_000, currency = 'NGN') => ({ reference, order_id: '11111111-1111-4111-8111-111111111111', amount, currency, email: 'buyer@example.test', method: null });
const lookup = (reference: string, amount = 150_000, currency = 'NGN', provider_payment_id: string | null = null) => ({ reference, amount, currency, provider_payment_id, method: null });

describe('Paystack adapter against the stand-in', () => {
  const adapter = () => createPaystackProvider({ baseUrl: paystack.url, secretKey: paystack.secretKey, timeoutMs: TIMEOUT_MS });

  it('initializes a transaction in minor units with the Bearer key and returns the authorization_url as a redirect', async () => {
    const result = await adapter().initialize(input('nx_ps_1'));
    const sent = paystack.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/transaction/initialize', authorization: `Bearer ${paystack.secretKey}` });
    expect(JSON.parse(sent.body)).toMatchObject({ email: 'buyer@example.test', amount: 150_000, currency: 'NGN', reference: 'nx_ps_1' });
    const t = paystack.transactions.get('nx_ps_1')!;
    expect(result).toEqual({ ok: true, providerPaymentId: t.access_code, nextAction: { type: 'redirect', url: `https://checkout.paystack.com/${t.access_code}` } });
  });

  it('reports success, decline and a still-open transaction from verify', async () => {
    const a = adapter();
    await a.initialize(input('nx_ps_2'));
    expect(await a.verify(lookup('nx_ps_2'))).toMatchObject({ status: 'pending' });
    paystack.settle('nx_ps_2', 'success');
    expect(await a.verify(lookup('nx_ps_2'))).toEqual({ status: 'succeeded', reference: 'nx_ps_2', amount: 150_000, currency: 'NGN', reason: undefined });
    await a.initialize(input('nx_ps_3'));
    paystack.settle('nx_ps_3', 'failed');
    expect(await a.verify(lookup('nx_ps_3'))).toMatchObject({ status: 'failed', reason: 'Declined' });
    expect(paystack.requests.at(-1)).toMatchObject({ method: 'GET', path: '/transaction/verify/nx_ps_3' });
  });

  it('reports pending (never failed) on a timeout, a 5xx, a malformed body or an unknown reference', async () => {
    const a = adapter();
    await a.initialize(input('nx_ps_4'));
    paystack.settle('nx_ps_4', 'failed');
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      paystack.mode.verify = mode;
      const report = await a.verify(lookup('nx_ps_4'));
      expect(report.status, mode).toBe('pending');
      expect(report.reason, mode).toMatch(/timeout|server_error|malformed_response/);
    }
    paystack.mode.verify = 'normal';
    expect((await a.verify(lookup('nx_never_started'))).status).toBe('pending');
  });

  it('reports an initialize it could not complete as not ok (timeout, 5xx, malformed, refused key)', async () => {
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      paystack.mode.initialize = mode;
      expect(await adapter().initialize(input(`nx_ps_fail_${mode}`)), mode).toMatchObject({ ok: false });
    }
    paystack.mode.initialize = 'normal';
    const refused = await createPaystackProvider({ baseUrl: paystack.url, secretKey: 'sk_wrong', timeoutMs: TIMEOUT_MS }).initialize(input('nx_ps_key'));
    expect(refused).toEqual({ ok: false, reason: 'rejected: Invalid key' });
  });
});

describe('Stripe adapter against the stand-in', () => {
  const adapter = () => createStripeProvider({ baseUrl: stripe.url, secretKey: stripe.secretKey, webhookSecret: null, timeoutMs: TIMEOUT_MS });

  it('creates a PaymentIntent form-encoded, currency lowercased, reference in metadata and as Idempotency-Key', async () => {
    const result = await adapter().initialize(input('nx_st_1', 4200, 'USD'));
    const sent = stripe.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/payment_intents', authorization: `Bearer ${stripe.secretKey}`, idempotencyKey: 'nx_st_1' });
    expect(sent.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(sent.body);
    expect(form.get('amount')).toBe('4200');
    expect(form.get('currency')).toBe('usd');
    expect(form.get('metadata[reference]')).toBe('nx_st_1');
    const intent = stripe.intentFor('nx_st_1');
    expect(result).toEqual({ ok: true, providerPaymentId: intent.id, nextAction: null });
    // Initializing again under the same reference gives the same intent, not a second one.
    expect(await adapter().initialize(input('nx_st_1', 4200, 'USD'))).toEqual(result);
    expect([...stripe.intents.values()].filter((i) => i.metadata.reference === 'nx_st_1')).toHaveLength(1);
  });

  it('maps intent statuses: succeeded, declined, canceled, processing, fresh, requires_action', async () => {
    const a = adapter();
    const cases = [
      ['succeeded', 'succeeded'],
      ['declined', 'failed'],
      ['canceled', 'failed'],
      ['processing', 'pending'],
      ['redirect', 'pending'],
    ] as const;
    for (const [outcome, expected] of cases) {
      const reference = `nx_st_${outcome}`;
      const started = await a.initialize(input(reference, 4200, 'USD'));
      const id = started.ok ? started.providerPaymentId : null;
      expect((await a.verify(lookup(reference, 4200, 'USD', id))).status, 'fresh intent').toBe('pending');
      stripe.settle(reference, outcome);
      const report = await a.verify(lookup(reference, 4200, 'USD', id));
      expect(report.status, outcome).toBe(expected);
      if (outcome === 'succeeded') expect(report).toMatchObject({ reference, amount: 4200, currency: 'USD' });
      if (outcome === 'declined') expect(report.reason).toBe('generic_decline');
    }
  });

  it('reports pending (never failed) on a timeout, a 5xx, a malformed body, an unknown intent or no intent at all', async () => {
    const a = adapter();
    const started = await a.initialize(input('nx_st_down', 4200, 'USD'));
    const id = started.ok ? started.providerPaymentId : null;
    stripe.settle('nx_st_down', 'declined');
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      stripe.mode.retrieve = mode;
      expect((await a.verify(lookup('nx_st_down', 4200, 'USD', id))).status, mode).toBe('pending');
    }
    stripe.mode.retrieve = 'normal';
    expect((await a.verify(lookup('nx_st_down', 4200, 'USD', 'pi_missing'))).status).toBe('pending');
    expect((await a.verify(lookup('nx_st_down', 4200, 'USD', null))).status).toBe('pending');
  });

  it('reports a create it could not complete as not ok (timeout, 5xx, malformed, invalid key)', async () => {
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      stripe.mode.create = mode;
      expect(await adapter().initialize(input(`nx_st_fail_${mode}`, 4200, 'USD')), mode).toMatchObject({ ok: false });
    }
    stripe.mode.create = 'normal';
    const refused = await createStripeProvider({ baseUrl: stripe.url, secretKey: 'sk_wrong', webhookSecret: null, timeoutMs: TIMEOUT_MS }).initialize(input('nx_st_key', 4200, 'USD'));
    expect(refused).toEqual({ ok: false, reason: 'rejected: Invalid API Key provided' });
  });
});

const refundRequest = (reference: string, provider_payment_id: string | null, refundId = randomUUID()) => ({
  refundId,
  reference,
  provider_payment_id,
  amount: 4200,
  currency: 'USD',
  method: null,
  reason: 'Customer returned the items',
  provider_refund_id: null as string | null,
});

describe('Stripe refunds against the stand-in', () => {
  const adapter = () => createStripeProvider({ baseUrl: stripe.url, secretKey: stripe.secretKey, webhookSecret: 'whsec_x', timeoutMs: TIMEOUT_MS });
  async function succeededIntent(reference: string) {
    const started = await adapter().initialize(input(reference, 4200, 'USD'));
    stripe.settle(reference, 'succeeded');
    return started.ok ? started.providerPaymentId : null;
  }

  it('refunds with POST /v1/refunds {payment_intent}, our refund id as Idempotency-Key and in metadata; asking again under the id makes no second refund', async () => {
    const intentId = await succeededIntent('nx_st_rf_1');
    const request = refundRequest('nx_st_rf_1', intentId);
    const result = await adapter().refund(request);
    const sent = stripe.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1/refunds', idempotencyKey: request.refundId, authorization: `Bearer ${stripe.secretKey}` });
    const form = new URLSearchParams(sent.body);
    expect([form.get('payment_intent'), form.get('metadata[refund_id]'), form.get('metadata[reference]')]).toEqual([intentId, request.refundId, 'nx_st_rf_1']);
    const made = stripe.refundFor('nx_st_rf_1');
    expect(result).toEqual({ refused: false, report: { status: 'succeeded', refundId: request.refundId, providerRefundId: made.id, reason: undefined } });
    expect(await adapter().refund(request)).toEqual(result);
    expect([...stripe.refunds.values()].filter((r) => r.payment_intent === intentId)).toHaveLength(1);
  });

  it('maps a pending refund to pending, a refusal or an at-once failure to refused, and a timeout, 5xx or garbage to pending', async () => {
    const intentId = await succeededIntent('nx_st_rf_2');
    stripe.refundOutcome = 'pending';
    expect(await adapter().refund(refundRequest('nx_st_rf_2', intentId))).toMatchObject({ refused: false, report: { status: 'pending' } });
    expect(await adapter().refund(refundRequest('nx_st_rf_2', intentId))).toEqual({ refused: true, reason: `Charge ch_${intentId!.slice(3)} has already been refunded.` });
    const other = await succeededIntent('nx_st_rf_3');
    stripe.refundOutcome = 'failed';
    expect(await adapter().refund(refundRequest('nx_st_rf_3', other))).toEqual({ refused: true, reason: 'expired_or_canceled_card' });
    stripe.refundOutcome = 'succeeded';
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      stripe.mode.refund = mode;
      expect(await adapter().refund(refundRequest('nx_st_rf_3', other)), mode).toMatchObject({ refused: false, report: { status: 'pending', providerRefundId: null } });
    }
    expect(await adapter().refund(refundRequest('nx_st_rf_x', null))).toMatchObject({ refused: true });
    stripe.refundOutcome = 'succeeded';
  });

  it('finds a refund by its id, or by the intent when its id was never learnt; none is null; an unreachable Stripe is pending', async () => {
    const intentId = await succeededIntent('nx_st_rf_4');
    const request = refundRequest('nx_st_rf_4', intentId);
    expect(await adapter().findRefund(request)).toBeNull();
    stripe.refundOutcome = 'pending';
    await adapter().refund(request);
    stripe.refundOutcome = 'succeeded';
    const made = stripe.refundFor('nx_st_rf_4');
    expect(await adapter().findRefund(request)).toMatchObject({ status: 'pending', refundId: request.refundId, providerRefundId: made.id });
    made.status = 'succeeded';
    expect(await adapter().findRefund({ ...request, provider_refund_id: made.id })).toMatchObject({ status: 'succeeded', providerRefundId: made.id });
    expect(stripe.requests.at(-1)).toMatchObject({ method: 'GET', path: `/v1/refunds/${made.id}` });
    stripe.mode.refundLookup = 'error500';
    expect(await adapter().findRefund(request)).toMatchObject({ status: 'pending' });
  });

  it('reads charge.refunded (in full only) and refund.updated as refund reports about the intent', () => {
    const webhooks = adapter().webhooks!;
    const charge = { id: 'ch_1', object: 'charge', payment_intent: 'pi_1', amount: 4200, amount_refunded: 4200, refunded: true, metadata: { reference: 'nx_1' }, refunds: { data: [{ id: 're_1' }] } };
    expect(webhooks.parseEvent({ id: 'evt_1', type: 'charge.refunded', data: { object: charge } })).toEqual({
      eventId: 'evt_1',
      eventType: 'charge.refunded',
      reference: 'nx_1',
      report: null,
      refund: { report: { status: 'succeeded', providerRefundId: 're_1' }, providerPaymentId: 'pi_1' },
    });
    expect(webhooks.parseEvent({ id: 'evt_2', type: 'charge.refunded', data: { object: { ...charge, refunded: false, amount_refunded: 100 } } })?.refund).toBeNull();
    for (const [status, expected] of [['succeeded', 'succeeded'], ['pending', 'pending'], ['failed', 'failed'], ['canceled', 'failed']] as const) {
      const event = webhooks.parseEvent({ id: `evt_${status}`, type: 'refund.updated', data: { object: { id: 're_2', object: 'refund', status, payment_intent: 'pi_2', metadata: { reference: 'nx_2', refund_id: 'ours' } } } });
      expect(event?.refund, status).toMatchObject({ report: { status: expected, refundId: 'ours', providerRefundId: 're_2' }, providerPaymentId: 'pi_2' });
      expect(event?.reference).toBe('nx_2');
    }
  });
});

describe('Paystack refunds against the stand-in', () => {
  const adapter = () => createPaystackProvider({ baseUrl: paystack.url, secretKey: paystack.secretKey, timeoutMs: TIMEOUT_MS });
  async function successfulTransaction(reference: string) {
    await adapter().initialize(input(reference, 4200, 'USD'));
    paystack.settle(reference, 'success');
  }

  it('queues a refund with POST /refund {transaction: our reference, amount}: pending, with its id', async () => {
    await successfulTransaction('nx_ps_rf_1');
    const request = refundRequest('nx_ps_rf_1', 'ac_1');
    const result = await adapter().refund(request);
    const sent = paystack.requests.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', path: '/refund', authorization: `Bearer ${paystack.secretKey}` });
    expect(JSON.parse(sent.body)).toMatchObject({ transaction: 'nx_ps_rf_1', amount: 4200, currency: 'USD' });
    expect(JSON.parse(sent.body).merchant_note).toContain(request.refundId);
    expect(result).toEqual({ refused: false, report: { status: 'pending', providerRefundId: String(paystack.refundFor('nx_ps_rf_1').id), reason: 'pending' } });
  });

  it('maps a refusal (already reversed, not successful) to refused, and a timeout, 5xx or garbage to pending', async () => {
    await successfulTransaction('nx_ps_rf_2');
    await adapter().refund(refundRequest('nx_ps_rf_2', 'ac'));
    expect(await adapter().refund(refundRequest('nx_ps_rf_2', 'ac'))).toEqual({ refused: true, reason: 'Transaction has been fully reversed' });
    await adapter().initialize(input('nx_ps_rf_open', 4200, 'USD'));
    expect(await adapter().refund(refundRequest('nx_ps_rf_open', 'ac'))).toMatchObject({ refused: true });
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      paystack.mode.refund = mode;
      expect(await adapter().refund(refundRequest('nx_ps_rf_2', 'ac')), mode).toMatchObject({ refused: false, report: { status: 'pending', providerRefundId: null } });
    }
  });

  it('finds a refund by its id, or by the transaction reference when its id was never learnt; none is null', async () => {
    await successfulTransaction('nx_ps_rf_3');
    const request = refundRequest('nx_ps_rf_3', 'ac');
    expect(await adapter().findRefund(request)).toBeNull();
    await adapter().refund(request);
    const made = paystack.refundFor('nx_ps_rf_3');
    expect(await adapter().findRefund(request)).toMatchObject({ status: 'pending', providerRefundId: String(made.id) });
    expect(paystack.requests.at(-1)).toMatchObject({ method: 'GET', path: '/refund' });
    paystack.settleRefund('nx_ps_rf_3', 'processed');
    expect(await adapter().findRefund({ ...request, provider_refund_id: String(made.id) })).toMatchObject({ status: 'succeeded', providerRefundId: String(made.id) });
    expect(paystack.requests.at(-1)).toMatchObject({ method: 'GET', path: `/refund/${made.id}` });
    paystack.mode.refundLookup = 'hang';
    expect(await adapter().findRefund(request)).toMatchObject({ status: 'pending' });
  });

  it('reads refund.processed and refund.failed as refund reports about the transaction reference', () => {
    const webhooks = adapter().webhooks!;
    const data = { id: 77, status: 'processed', transaction_reference: 'nx_ps_9', refund_reference: 'rf_77', amount: 4200, currency: 'USD' };
    expect(webhooks.parseEvent({ event: 'refund.processed', data })).toEqual({
      eventId: 'refund.processed:77',
      eventType: 'refund.processed',
      reference: 'nx_ps_9',
      report: null,
      refund: { report: { status: 'succeeded', providerRefundId: '77', reason: undefined }, providerPaymentId: null },
    });
    expect(webhooks.parseEvent({ event: 'refund.failed', data: { ...data, status: 'failed' } })?.refund?.report.status).toBe('failed');
    const { id: _id, ...noId } = data;
    expect(webhooks.parseEvent({ event: 'refund.processed', data: noId })?.eventId).toBe('refund.processed:rf_77');
  });
});

describe('the payment routes with the real adapters', () => {
  let t: TestContext;
  let customer: TestUser;

  beforeAll(async () => {
    t = await createTestContext({
      env: { ...standInProviderEnv(stripe, paystack), PAYMENT_PROVIDER: 'paystack', PAYMENT_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    customer = await t.user('customer');
  });
  afterAll(async () => {
    await t.close();
  });

  const initiate = (payload: object) => t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload, as: customer });
  const confirm = (reference: string) => t.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference }, as: customer });

  it('pays with Paystack by default: redirect to the authorization_url, then confirm verifies and pays the order', async () => {
    const order = await insertOrder(t.db, customer.id, { total: 300_000, currency: 'NGN' });
    const res = await initiate({ order_id: order.id });
    expect(res.statusCode).toBe(201);
    const p = res.json();
    const txn = paystack.transactions.get(p.reference)!;
    expect(txn).toMatchObject({ amount: 300_000, currency: 'NGN', email: customer.email });
    expect(p).toMatchObject({ provider: 'paystack', status: 'pending', next_action: { type: 'redirect', url: `https://checkout.paystack.com/${txn.access_code}` } });

    expect((await confirm(p.reference)).json().status).toBe('pending');
    paystack.settle(p.reference, 'success');
    const confirmed = await confirm(p.reference);
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().status).toBe('succeeded');
    expect((await orderState(t.db, order.id)).status).toBe('paid');
  });

  it('answers 200 with the payment still pending when the provider times out, errors or answers garbage at confirm', async () => {
    const order = await insertOrder(t.db, customer.id, { currency: 'NGN' });
    const p = (await initiate({ order_id: order.id })).json();
    paystack.settle(p.reference, 'success');
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      paystack.mode.verify = mode;
      const res = await confirm(p.reference);
      expect(res.statusCode, mode).toBe(200);
      expect(res.json().status, mode).toBe('pending');
    }
    expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('pending');
    expect((await orderState(t.db, order.id)).status).toBe('pending_payment');
    paystack.mode.verify = 'normal';
    expect((await confirm(p.reference)).json().status).toBe('succeeded');
  });

  it('answers 402 when Paystack reports a decline or a different amount, with the payment failed', async () => {
    const declined = await insertOrder(t.db, customer.id, { currency: 'NGN' });
    const p1 = (await initiate({ order_id: declined.id })).json();
    paystack.settle(p1.reference, 'failed');
    expect((await confirm(p1.reference)).json()).toMatchObject({ status: 402, code: 'payment_failed' });
    expect((await paymentsOf(t.db, declined.id))[0]!.status).toBe('failed');

    const short = await insertOrder(t.db, customer.id, { total: 50_000, currency: 'NGN' });
    const p2 = (await initiate({ order_id: short.id })).json();
    paystack.settle(p2.reference, 'success', { reportedAmount: 500 });
    expect((await confirm(p2.reference)).statusCode).toBe(402);
    expect((await paymentsOf(t.db, short.id))[0]).toMatchObject({ status: 'failed', failure_reason: 'amount_mismatch', needs_refund: true });
    expect((await orderState(t.db, short.id)).status).toBe('pending_payment');
  });

  it('cancels the payment and answers 503 busy with Retry-After when the provider cannot start it; a retry starts a fresh one', async () => {
    const order = await insertOrder(t.db, customer.id, { currency: 'NGN' });
    for (const mode of ['hang', 'error500', 'malformed'] as const) {
      paystack.mode.initialize = mode;
      const res = await initiate({ order_id: order.id });
      expect(res.statusCode, mode).toBe(503);
      expect(res.json().code).toBe('busy');
      expect(res.headers['retry-after']).toBeDefined();
    }
    const rows = await paymentsOf(t.db, order.id);
    expect(rows.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(rows[0]!.failure_reason).toMatch(/^provider_unavailable/);
    paystack.mode.initialize = 'normal';
    const retry = await initiate({ order_id: order.id });
    expect(retry.statusCode).toBe(201);
    expect(retry.json().next_action).toMatchObject({ type: 'redirect' });
  });

  it('replays initiate and confirm for the same Idempotency-Key without calling the provider again', async () => {
    const order = await insertOrder(t.db, customer.id, { currency: 'NGN' });
    const key = { 'idempotency-key': `replay-${order.id}` };
    const calls = () => paystack.requests.length;
    const first = await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id }, as: customer, headers: key });
    expect(first.statusCode).toBe(201);
    const afterInitiate = calls();
    const again = await t.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.id }, as: customer, headers: key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(calls()).toBe(afterInitiate);

    const reference = first.json().reference as string;
    const confirmKey = { 'idempotency-key': `confirm-${reference}` };
    const pending = await t.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference }, as: customer, headers: confirmKey });
    expect(pending.json().status).toBe('pending');
    const afterConfirm = calls();
    paystack.settle(reference, 'success');
    const replayed = await t.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference }, as: customer, headers: confirmKey });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(pending.json());
    expect(calls()).toBe(afterConfirm);
    // A new key asks the provider again and applies the success.
    expect((await confirm(reference)).json().status).toBe('succeeded');
    expect(calls()).toBe(afterConfirm + 1);
  });

  it('starts again, under the same reference, a pending payment whose start was abandoned (its request died before the provider call)', async () => {
    const order = await insertOrder(t.db, customer.id, { currency: 'NGN' });
    const reference = `nx_abandoned_${order.id.slice(0, 8)}`;
    const longAgo = new Date(Date.now() - 60_000);
    await t.db
      .insertInto('payments')
      .values({ id: randomUUID(), order_id: order.id, customer_id: customer.id, provider: 'paystack', reference, amount: order.total, currency: 'NGN', status: 'pending', next_action: JSON.stringify(null), created_at: longAgo, updated_at: longAgo })
      .execute();
    const res = await initiate({ order_id: order.id });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ reference, status: 'pending', next_action: { type: 'redirect' } });
    expect(paystack.transactions.get(reference)).toMatchObject({ amount: order.total });
    expect((await paymentsOf(t.db, order.id))[0]!.provider_payment_id).toBe(paystack.transactions.get(reference)!.access_code);
  });

  it('pays with Stripe when asked: confirm retrieves the intent', async () => {
    const order = await insertOrder(t.db, customer.id, { total: 1999 });
    const res = await initiate({ order_id: order.id, provider: 'stripe' });
    expect(res.statusCode).toBe(201);
    const p = res.json();
    expect(p).toMatchObject({ provider: 'stripe', amount: 1999, currency: 'USD', next_action: null });
    stripe.settle(p.reference, 'succeeded');
    expect((await confirm(p.reference)).json().status).toBe('succeeded');
    expect((await orderState(t.db, order.id)).status).toBe('paid');
  });

  it('answers 402 when the Stripe intent was declined or canceled', async () => {
    for (const outcome of ['declined', 'canceled'] as const) {
      const order = await insertOrder(t.db, customer.id);
      const p = (await initiate({ order_id: order.id, provider: 'stripe' })).json();
      stripe.settle(p.reference, outcome);
      const res = await confirm(p.reference);
      expect(res.statusCode, outcome).toBe(402);
      expect((await paymentsOf(t.db, order.id))[0]!.status).toBe('failed');
    }
  });
});

describe('webhook signature checks', () => {
  const payload = Buffer.from('{"id":"evt_1","type":"payment_intent.succeeded"}');
  const now = new Date('2026-11-25T12:00:00.000Z');
  const t0 = Math.floor(now.getTime() / 1000);

  it('accepts a Stripe signature within 5 minutes either side of our clock, and nothing older or newer', () => {
    expect(verifyStripeSignature(signStripe(payload, 'whsec', t0), payload, 'whsec', now)).toBe(true);
    expect(verifyStripeSignature(signStripe(payload, 'whsec', t0 - 300), payload, 'whsec', now)).toBe(true);
    expect(verifyStripeSignature(signStripe(payload, 'whsec', t0 - 301), payload, 'whsec', now)).toBe(false);
    expect(verifyStripeSignature(signStripe(payload, 'whsec', t0 + 301), payload, 'whsec', now)).toBe(false);
  });

  it('refuses Stripe headers without t or v1, with v0 only, with non-hex or truncated signatures, or for another secret', () => {
    const good = signStripe(payload, 'whsec', t0);
    const v1 = good.split('v1=')[1]!;
    for (const header of [undefined, '', `v1=${v1}`, `t=${t0}`, `t=${t0},v0=${v1}`, `t=${t0},v1=${v1.slice(0, 20)}`, `t=${t0},v1=zz${v1.slice(2)}`, `t=abc,v1=${v1}`]) {
      expect(verifyStripeSignature(header, payload, 'whsec', now), String(header)).toBe(false);
    }
    expect(verifyStripeSignature(good, payload, 'other', now)).toBe(false);
    expect(verifyStripeSignature(good, Buffer.concat([payload, Buffer.from(' ')]), 'whsec', now)).toBe(false);
  });

  it('checks Paystack signatures as hex HMAC-SHA512 of the exact bytes', () => {
    const sig = signPaystack(payload, 'sk_test');
    expect(sig).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyPaystackSignature(sig, payload, 'sk_test')).toBe(true);
    expect(verifyPaystackSignature(sig.toUpperCase(), payload, 'sk_test')).toBe(true);
    expect(verifyPaystackSignature(sig, payload, 'sk_other')).toBe(false);
    expect(verifyPaystackSignature(sig.slice(0, 64), payload, 'sk_test')).toBe(false);
    expect(verifyPaystackSignature(undefined, payload, 'sk_test')).toBe(false);
    expect(verifyPaystackSignature(sig, Buffer.from(payload.toString().replace('evt_1', 'evt_2')), 'sk_test')).toBe(false);
  });
});

import { randomBytes } from 'node:crypto';
import { sendJson, startStandIn, type Misbehaviour } from './stand-in-server.js';

/**
 * A local stand-in for Stripe's PaymentIntents API, speaking its documented shapes: POST /v1/payment_intents
 * (form-encoded, Bearer secret key, Idempotency-Key honoured) → a PaymentIntent object; GET
 * /v1/payment_intents/:id → the intent; errors are {error: {type, code?, message}} with 4xx.
 * Refunds: POST /v1/refunds (payment_intent, metadata[…]; Idempotency-Key honoured) → a Refund object,
 * refused with charge_already_refunded when the intent already has a refund that did not fail; GET
 * /v1/refunds/:id and GET /v1/refunds?payment_intent=… → {object: "list", data}.
 * `mode` makes it misbehave: hang (never answers), error500, malformed (a non-JSON body).
 */

export interface StripeIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  status: 'requires_payment_method' | 'requires_action' | 'processing' | 'succeeded' | 'canceled';
  client_secret: string;
  metadata: Record<string, string>;
  next_action: unknown;
  last_payment_error: unknown;
  cancellation_reason: string | null;
}

export interface StripeRefund {
  id: string;
  object: 'refund';
  amount: number;
  currency: string;
  payment_intent: string;
  charge: string;
  status: 'pending' | 'requires_action' | 'succeeded' | 'failed' | 'canceled';
  failure_reason: string | null;
  metadata: Record<string, string>;
}

export interface StripeStandIn {
  url: string;
  secretKey: string;
  mode: { create: Misbehaviour; retrieve: Misbehaviour; refund: Misbehaviour; refundLookup: Misbehaviour };
  /** The status a new refund gets, or `refuse` to answer 400 as Stripe does for a charge it will not refund. */
  refundOutcome: 'succeeded' | 'pending' | 'failed' | 'refuse';
  /** Awaited after a refund is made and before it is answered: lets a test race the answer. */
  onRefund: ((refund: StripeRefund) => Promise<void>) | null;
  intents: Map<string, StripeIntent>;
  refunds: Map<string, StripeRefund>;
  /** How many POST /v1/refunds reached it (each one, replays under an Idempotency-Key included). */
  refundCalls(): number;
  refundFor(reference: string): StripeRefund;
  /** A charge as Stripe sends it in charge.refunded, for the intent of `reference`. */
  chargeOf(reference: string): Record<string, unknown>;
  requests: { method: string; path: string; authorization: string | undefined; contentType: string | undefined; idempotencyKey: string | undefined; body: string }[];
  intentFor(reference: string): StripeIntent;
  settle(reference: string, outcome: 'succeeded' | 'declined' | 'processing' | 'canceled' | 'redirect', options?: { amountReceived?: number }): StripeIntent;
  close(): Promise<void>;
}

export async function startStripeStandIn(secretKey = 'sk_test_stripe_standin'): Promise<StripeStandIn> {
  const byIdempotencyKey = new Map<string, string>();
  const stand: Omit<StripeStandIn, 'url' | 'close'> = {
    secretKey,
    mode: { create: 'normal', retrieve: 'normal', refund: 'normal', refundLookup: 'normal' },
    refundOutcome: 'succeeded',
    onRefund: null,
    intents: new Map(),
    refunds: new Map(),
    requests: [],
    refundCalls() {
      return this.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds').length;
    },
    refundFor(reference) {
      const intent = this.intentFor(reference);
      const refund = [...this.refunds.values()].reverse().find((r) => r.payment_intent === intent.id);
      if (!refund) throw new Error(`stand-in: no refund for ${reference}`);
      return refund;
    },
    chargeOf(reference) {
      const intent = this.intentFor(reference);
      const refunds = [...this.refunds.values()].filter((r) => r.payment_intent === intent.id).reverse();
      const refunded = refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
      return {
        id: `ch_${intent.id.slice(3)}`,
        object: 'charge',
        amount: intent.amount,
        amount_refunded: refunded,
        currency: intent.currency,
        payment_intent: intent.id,
        refunded: refunded >= intent.amount,
        metadata: intent.metadata,
        refunds: { object: 'list', data: refunds },
      };
    },
    intentFor(reference) {
      const intent = [...this.intents.values()].find((i) => i.metadata.reference === reference);
      if (!intent) throw new Error(`stand-in: no intent for ${reference}`);
      return intent;
    },
    settle(reference, outcome, options = {}) {
      const intent = this.intentFor(reference);
      if (outcome === 'succeeded') {
        intent.status = 'succeeded';
        intent.amount_received = options.amountReceived ?? intent.amount;
      } else if (outcome === 'declined') {
        intent.status = 'requires_payment_method';
        intent.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
      } else if (outcome === 'processing') {
        intent.status = 'processing';
      } else if (outcome === 'redirect') {
        intent.status = 'requires_action';
        intent.next_action = { type: 'redirect_to_url', redirect_to_url: { url: `https://hooks.stripe.com/redirect/${intent.id}`, return_url: 'https://shop.example/return' } };
      } else {
        intent.status = 'canceled';
        intent.cancellation_reason = 'abandoned';
      }
      return intent;
    },
  };

  const failures = { error500: { error: { type: 'api_error', message: 'Something went wrong on our end.' } }, malformed: '<html>502 Bad Gateway</html>' };
  const server = await startStandIn(failures, async (req, res, { body, path, misbehave }) => {
    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    stand.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, contentType: req.headers['content-type'], idempotencyKey, body });
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return sendJson(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }

    if (req.method === 'POST' && path === '/v1/payment_intents') {
      if (misbehave(stand.mode.create)) return;
      if (idempotencyKey && byIdempotencyKey.has(idempotencyKey)) return sendJson(res, 200, stand.intents.get(byIdempotencyKey.get(idempotencyKey)!));
      const form = new URLSearchParams(body);
      const amount = Number(form.get('amount'));
      const currency = form.get('currency') ?? '';
      if (!Number.isInteger(amount) || amount < 1) {
        return sendJson(res, 400, { error: { type: 'invalid_request_error', code: 'parameter_invalid_integer', param: 'amount', message: 'Invalid integer' } });
      }
      if (!/^[a-z]{3}$/.test(currency)) {
        return sendJson(res, 400, { error: { type: 'invalid_request_error', code: 'parameter_invalid', param: 'currency', message: 'Invalid currency' } });
      }
      const metadata: Record<string, string> = {};
      for (const [key, value] of form) {
        const m = /^metadata\[(.+)\]$/.exec(key);
        if (m) metadata[m[1]!] = value;
      }
      const id = `pi_${randomBytes(12).toString('hex')}`;
      const intent: StripeIntent = {
        id,
        object: 'payment_intent',
        amount,
        amount_received: 0,
        currency,
        status: 'requires_payment_method',
        client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
        metadata,
        next_action: null,
        last_payment_error: null,
        cancellation_reason: null,
      };
      stand.intents.set(id, intent);
      if (idempotencyKey) byIdempotencyKey.set(idempotencyKey, id);
      return sendJson(res, 200, intent);
    }

    if (req.method === 'POST' && path === '/v1/refunds') {
      if (misbehave(stand.mode.refund)) return;
      if (idempotencyKey && byIdempotencyKey.has(`refund:${idempotencyKey}`)) return sendJson(res, 200, stand.refunds.get(byIdempotencyKey.get(`refund:${idempotencyKey}`)!));
      const form = new URLSearchParams(body);
      const intent = stand.intents.get(form.get('payment_intent') ?? '');
      if (!intent) return sendJson(res, 400, { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_intent', message: 'No such payment_intent' } });
      if (intent.status !== 'succeeded') {
        return sendJson(res, 400, { error: { type: 'invalid_request_error', code: 'charge_not_refundable', message: 'This PaymentIntent does not have a successful charge to refund.' } });
      }
      if (stand.refundOutcome === 'refuse' || [...stand.refunds.values()].some((r) => r.payment_intent === intent.id && r.status !== 'failed' && r.status !== 'canceled')) {
        return sendJson(res, 400, { error: { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ch_${intent.id.slice(3)} has already been refunded.` } });
      }
      const metadata: Record<string, string> = {};
      for (const [key, value] of form) {
        const m = /^metadata\[(.+)\]$/.exec(key);
        if (m) metadata[m[1]!] = value;
      }
      const refund: StripeRefund = {
        id: `re_${randomBytes(12).toString('hex')}`,
        object: 'refund',
        amount: intent.amount_received,
        currency: intent.currency,
        payment_intent: intent.id,
        charge: `ch_${intent.id.slice(3)}`,
        status: stand.refundOutcome,
        failure_reason: stand.refundOutcome === 'failed' ? 'expired_or_canceled_card' : null,
        metadata,
      };
      stand.refunds.set(refund.id, refund);
      if (idempotencyKey) byIdempotencyKey.set(`refund:${idempotencyKey}`, refund.id);
      if (stand.onRefund) await stand.onRefund(refund);
      return sendJson(res, 200, refund);
    }

    const refundById = /^\/v1\/refunds\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && (refundById || path === '/v1/refunds')) {
      if (misbehave(stand.mode.refundLookup)) return;
      if (refundById) {
        const refund = stand.refunds.get(decodeURIComponent(refundById[1]!));
        if (!refund) return sendJson(res, 404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such refund: '${refundById[1]}'` } });
        return sendJson(res, 200, refund);
      }
      const intentId = new URL(req.url ?? '', 'http://stand-in').searchParams.get('payment_intent');
      const data = [...stand.refunds.values()].filter((r) => intentId === null || r.payment_intent === intentId).reverse();
      return sendJson(res, 200, { object: 'list', data, has_more: false, url: '/v1/refunds' });
    }

    const retrieve = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && retrieve) {
      if (misbehave(stand.mode.retrieve)) return;
      const intent = stand.intents.get(decodeURIComponent(retrieve[1]!));
      if (!intent) {
        return sendJson(res, 404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such payment_intent: '${retrieve[1]}'` } });
      }
      return sendJson(res, 200, intent);
    }
    return sendJson(res, 404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
  });

  return Object.assign(stand, server) as StripeStandIn;
}

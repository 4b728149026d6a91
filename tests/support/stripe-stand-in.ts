import { randomBytes } from 'node:crypto';
import { sendJson, startStandIn, type Misbehaviour } from './stand-in-server.js';

/**
 * A local stand-in for Stripe's PaymentIntents API, speaking its documented shapes: POST /v1/payment_intents
 * (form-encoded, Bearer secret key, Idempotency-Key honoured) → a PaymentIntent object; GET
 * /v1/payment_intents/:id → the intent; errors are {error: {type, code?, message}} with 4xx.
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

export interface StripeStandIn {
  url: string;
  secretKey: string;
  mode: { create: Misbehaviour; retrieve: Misbehaviour };
  intents: Map<string, StripeIntent>;
  requests: { method: string; path: string; authorization: string | undefined; contentType: string | undefined; idempotencyKey: string | undefined; body: string }[];
  intentFor(reference: string): StripeIntent;
  settle(reference: string, outcome: 'succeeded' | 'declined' | 'processing' | 'canceled' | 'redirect', options?: { amountReceived?: number }): StripeIntent;
  close(): Promise<void>;
}

export async function startStripeStandIn(secretKey = 'sk_test_stripe_standin'): Promise<StripeStandIn> {
  const byIdempotencyKey = new Map<string, string>();
  const stand: Omit<StripeStandIn, 'url' | 'close'> = {
    secretKey,
    mode: { create: 'normal', retrieve: 'normal' },
    intents: new Map(),
    requests: [],
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
  const server = await startStandIn(failures, (req, res, { body, path, misbehave }) => {
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

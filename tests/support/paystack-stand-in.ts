import { randomBytes } from 'node:crypto';
import { sendJson, startStandIn, type Misbehaviour } from './stand-in-server.js';

/**
 * A local stand-in for Paystack's transaction API, speaking its documented shapes:
 * POST /transaction/initialize (JSON, Bearer secret key) → {status: true, message, data: {authorization_url,
 * access_code, reference}}; GET /transaction/verify/:reference → {status: true, message, data: {id, status,
 * reference, amount, currency, gateway_response, …}}; errors are {status: false, message} with 4xx.
 * `mode` makes it misbehave: hang (never answers), error500, malformed (a non-JSON body).
 */

export type { Misbehaviour };

export interface PaystackTransaction {
  id: number;
  reference: string;
  amount: number;
  currency: string;
  email: string;
  status: 'ongoing' | 'success' | 'failed' | 'abandoned';
  access_code: string;
  /** What verify reports as the amount (to fake a mismatch); defaults to amount. */
  reportedAmount?: number;
}

export interface PaystackStandIn {
  url: string;
  secretKey: string;
  mode: { initialize: Misbehaviour; verify: Misbehaviour };
  transactions: Map<string, PaystackTransaction>;
  requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  settle(reference: string, status: PaystackTransaction['status'], options?: { reportedAmount?: number }): void;
  close(): Promise<void>;
}

export async function startPaystackStandIn(secretKey = 'sk_test_standin'): Promise<PaystackStandIn> {
  let nextId = 4_000_000;
  const stand: Omit<PaystackStandIn, 'url' | 'close'> = {
    secretKey,
    mode: { initialize: 'normal', verify: 'normal' },
    transactions: new Map(),
    requests: [],
    settle(reference, status, options = {}) {
      const t = this.transactions.get(reference);
      if (!t) throw new Error(`stand-in: no transaction ${reference}`);
      t.status = status;
      if (options.reportedAmount !== undefined) t.reportedAmount = options.reportedAmount;
    },
  };

  const failures = { error500: { status: false, message: 'An error occurred' }, malformed: '{"status": true, "data": {"authorization_url": ' };
  const server = await startStandIn(failures, (req, res, { body, path, misbehave }) => {
    stand.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    if (req.headers.authorization !== `Bearer ${secretKey}`) return sendJson(res, 401, { status: false, message: 'Invalid key' });

    if (req.method === 'POST' && path === '/transaction/initialize') {
      if (misbehave(stand.mode.initialize)) return;
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { status: false, message: 'Invalid JSON' });
      }
      const amount = Number(input.amount);
      if (typeof input.email !== 'string' || !input.email.includes('@')) return sendJson(res, 400, { status: false, message: 'Invalid Email Address Passed' });
      if (!Number.isInteger(amount) || amount <= 0) return sendJson(res, 400, { status: false, message: 'Invalid Amount Sent' });
      const reference = typeof input.reference === 'string' ? input.reference : randomBytes(6).toString('hex');
      if (stand.transactions.has(reference)) return sendJson(res, 400, { status: false, message: 'Duplicate Transaction Reference' });
      const accessCode = randomBytes(8).toString('hex');
      stand.transactions.set(reference, {
        id: nextId++,
        reference,
        amount,
        currency: typeof input.currency === 'string' ? input.currency : 'NGN',
        email: input.email,
        status: 'ongoing',
        access_code: accessCode,
      });
      return sendJson(res, 200, {
        status: true,
        message: 'Authorization URL created',
        data: { authorization_url: `https://checkout.paystack.com/${accessCode}`, access_code: accessCode, reference },
      });
    }

    const verify = /^\/transaction\/verify\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && verify) {
      if (misbehave(stand.mode.verify)) return;
      const t = stand.transactions.get(decodeURIComponent(verify[1]!));
      if (!t) return sendJson(res, 400, { status: false, message: 'Transaction reference not found' });
      return sendJson(res, 200, {
        status: true,
        message: 'Verification successful',
        data: {
          id: t.id,
          domain: 'test',
          status: t.status,
          reference: t.reference,
          amount: t.reportedAmount ?? t.amount,
          currency: t.currency,
          gateway_response: t.status === 'success' ? 'Successful' : t.status === 'failed' ? 'Declined' : 'The transaction was not completed',
          paid_at: t.status === 'success' ? new Date().toISOString() : null,
          channel: 'card',
        },
      });
    }
    return sendJson(res, 404, { status: false, message: 'Not found' });
  });

  return Object.assign(stand, server) as PaystackStandIn;
}

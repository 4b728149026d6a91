import { randomBytes } from 'node:crypto';
import { sendJson, startStandIn, type Misbehaviour } from './stand-in-server.js';

/**
 * A local stand-in for Paystack's transaction API, speaking its documented shapes:
 * POST /transaction/initialize (JSON, Bearer secret key) → {status: true, message, data: {authorization_url,
 * access_code, reference}}; GET /transaction/verify/:reference → {status: true, message, data: {id, status,
 * reference, amount, currency, gateway_response, …}}; errors are {status: false, message} with 4xx.
 * Refunds: POST /refund {transaction (reference or id), amount?, currency?, merchant_note?} → {status: true,
 * message: "Refund has been queued for processing", data: {id, status, transaction, amount, …}}, refused
 * with 400 when the transaction is not successful or already has a refund that did not fail; GET
 * /refund/:id → the refund; GET /refund?reference=… → {status: true, data: [refunds]}.
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

export interface PaystackRefund {
  id: number;
  transaction: { id: number; reference: string; amount: number; currency: string };
  amount: number;
  currency: string;
  status: 'pending' | 'processing' | 'processed' | 'failed';
  merchant_note: string | null;
  refunded_at: string | null;
}

export interface PaystackStandIn {
  url: string;
  secretKey: string;
  mode: { initialize: Misbehaviour; verify: Misbehaviour; refund: Misbehaviour; refundLookup: Misbehaviour };
  /** The status a new refund gets (Paystack queues refunds: `pending`), or `refuse` to answer 400. */
  refundOutcome: PaystackRefund['status'] | 'refuse';
  /** Awaited after a refund is made and before it is answered: lets a test race the answer. */
  onRefund: ((refund: PaystackRefund) => Promise<void>) | null;
  refunds: PaystackRefund[];
  /** How many POST /refund reached it. */
  refundCalls(): number;
  refundFor(reference: string): PaystackRefund;
  /** Moves the transaction's latest refund to `status` (as Paystack does later), and returns it. */
  settleRefund(reference: string, status: 'processed' | 'failed'): PaystackRefund;
  transactions: Map<string, PaystackTransaction>;
  requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  settle(reference: string, status: PaystackTransaction['status'], options?: { reportedAmount?: number }): void;
  close(): Promise<void>;
}

export async function startPaystackStandIn(secretKey = 'sk_test_standin'): Promise<PaystackStandIn> {
  let nextId = 4_000_000;
  const stand: Omit<PaystackStandIn, 'url' | 'close'> = {
    secretKey,
    mode: { initialize: 'normal', verify: 'normal', refund: 'normal', refundLookup: 'normal' },
    refundOutcome: 'pending',
    onRefund: null,
    refunds: [],
    refundCalls() {
      return this.requests.filter((r) => r.method === 'POST' && r.path === '/refund').length;
    },
    refundFor(reference) {
      const refund = [...this.refunds].reverse().find((r) => r.transaction.reference === reference);
      if (!refund) throw new Error(`stand-in: no refund for ${reference}`);
      return refund;
    },
    settleRefund(reference, status) {
      const refund = this.refundFor(reference);
      refund.status = status;
      refund.refunded_at = status === 'processed' ? new Date().toISOString() : null;
      return refund;
    },
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
  let nextRefundId = 9_000_000;
  const server = await startStandIn(failures, async (req, res, { body, path, misbehave }) => {
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

    if (req.method === 'POST' && path === '/refund') {
      if (misbehave(stand.mode.refund)) return;
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { status: false, message: 'Invalid JSON' });
      }
      const key = String(input.transaction ?? '');
      const t = stand.transactions.get(key) ?? [...stand.transactions.values()].find((x) => String(x.id) === key);
      if (!t) return sendJson(res, 404, { status: false, message: 'Transaction not found' });
      if (t.status !== 'success') return sendJson(res, 400, { status: false, message: 'Cannot refund a transaction that is not successful' });
      if (stand.refundOutcome === 'refuse' || stand.refunds.some((r) => r.transaction.id === t.id && r.status !== 'failed')) {
        return sendJson(res, 400, { status: false, message: 'Transaction has been fully reversed' });
      }
      const amount = input.amount === undefined ? t.amount : Number(input.amount);
      if (!Number.isInteger(amount) || amount <= 0 || amount > t.amount) return sendJson(res, 400, { status: false, message: 'Refund amount cannot be more than transaction amount' });
      const refund: PaystackRefund = {
        id: nextRefundId++,
        transaction: { id: t.id, reference: t.reference, amount: t.amount, currency: t.currency },
        amount,
        currency: t.currency,
        status: stand.refundOutcome,
        merchant_note: typeof input.merchant_note === 'string' ? input.merchant_note : null,
        refunded_at: stand.refundOutcome === 'processed' ? new Date().toISOString() : null,
      };
      stand.refunds.push(refund);
      if (stand.onRefund) await stand.onRefund(refund);
      return sendJson(res, 200, { status: true, message: 'Refund has been queued for processing', data: refund });
    }

    const refundById = /^\/refund\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && (refundById || path === '/refund')) {
      if (misbehave(stand.mode.refundLookup)) return;
      if (refundById) {
        const refund = stand.refunds.find((r) => String(r.id) === decodeURIComponent(refundById[1]!));
        return refund ? sendJson(res, 200, { status: true, message: 'Refund retrieved', data: refund }) : sendJson(res, 404, { status: false, message: 'Refund not found' });
      }
      const reference = new URL(req.url ?? '', 'http://stand-in').searchParams.get('reference');
      const data = stand.refunds.filter((r) => reference === null || r.transaction.reference === reference).reverse();
      return sendJson(res, 200, { status: true, message: 'Refunds retrieved', data, meta: { total: data.length } });
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

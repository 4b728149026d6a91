import type { ProviderReport } from '../../core/payment.js';
import { callProvider, isRecord, type PaymentProvider, type WebhookEvent } from './provider.js';
import { singleHeader, verifyPaystackSignature } from './signatures.js';

/**
 * Paystack: POST /transaction/initialize starts a transaction under our reference and returns the
 * hosted checkout page (authorization_url), which becomes next_action {type: "redirect"};
 * GET /transaction/verify/:reference reports it. Amounts are in minor units (kobo), Bearer secret key.
 * Answers are `{status: boolean, message, data}`. Webhooks are signed with `x-paystack-signature`,
 * the HMAC-SHA512 of the raw body with the same secret key.
 */

export interface PaystackOptions {
  baseUrl: string;
  secretKey: string;
  timeoutMs: number;
}

/** Paystack transaction statuses that settle a payment; the rest (ongoing, pending, abandoned…) do not yet. */
const settled: Record<string, 'succeeded' | 'failed'> = { success: 'succeeded', failed: 'failed', reversed: 'failed' };

function reportOf(data: Record<string, unknown>): ProviderReport {
  const status = typeof data.status === 'string' ? data.status : '';
  const reason = typeof data.gateway_response === 'string' ? data.gateway_response : status;
  return {
    status: settled[status] ?? 'pending',
    reference: typeof data.reference === 'string' ? data.reference : null,
    amount: typeof data.amount === 'number' && Number.isInteger(data.amount) ? data.amount : null,
    currency: typeof data.currency === 'string' ? data.currency.toUpperCase() : null,
    reason: settled[status] === 'succeeded' ? undefined : reason || undefined,
  };
}

export function createPaystackProvider(options: PaystackOptions): PaymentProvider {
  const base = options.baseUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${options.secretKey}`, accept: 'application/json' };

  return {
    name: 'paystack',

    async initialize(input) {
      const call = await callProvider(
        `${base}/transaction/initialize`,
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            email: input.email,
            amount: input.amount,
            currency: input.currency,
            reference: input.reference,
            metadata: { order_id: input.order_id },
          }),
        },
        options.timeoutMs,
      );
      if (call.kind === 'unavailable') return { ok: false, reason: call.reason };
      const body = call.body;
      if (call.status !== 200 || !isRecord(body) || body.status !== true || !isRecord(body.data) || typeof body.data.authorization_url !== 'string') {
        const message = isRecord(body) && typeof body.message === 'string' ? body.message : `status ${call.status}`;
        return { ok: false, reason: `rejected: ${message}` };
      }
      // Verify goes by our reference; the access code is kept as the provider's id, or the reference when
      // Paystack gives none, so the payment is marked as started either way.
      const accessCode = typeof body.data.access_code === 'string' ? body.data.access_code : input.reference;
      return { ok: true, providerPaymentId: accessCode, nextAction: { type: 'redirect', url: body.data.authorization_url } };
    },

    async verify(payment) {
      const call = await callProvider(`${base}/transaction/verify/${encodeURIComponent(payment.reference)}`, { method: 'GET', headers }, options.timeoutMs);
      const unknown = (reason: string): ProviderReport => ({ status: 'pending', reference: payment.reference, amount: null, currency: null, reason });
      if (call.kind === 'unavailable') return unknown(`provider ${call.reason}`);
      const body = call.body;
      // 404 "Transaction reference not found" and other refusals say nothing about money moving.
      if (call.status !== 200 || !isRecord(body) || body.status !== true || !isRecord(body.data)) return unknown(`provider answered ${call.status}`);
      return reportOf(body.data);
    },

    webhooks: {
      verifySignature: ({ rawBody, headers: given }) => verifyPaystackSignature(singleHeader(given['x-paystack-signature']), rawBody, options.secretKey),
      parseEvent(body): WebhookEvent | null {
        if (!isRecord(body) || typeof body.event !== 'string' || !isRecord(body.data)) return null;
        const data = body.data;
        // Paystack events carry no event id of their own: the transaction id (or reference) with the event
        // name identifies a delivery, and redeliveries repeat it.
        const subject = typeof data.id === 'number' || typeof data.id === 'string' ? String(data.id) : typeof data.reference === 'string' ? data.reference : null;
        if (subject === null) return null;
        const reference = typeof data.reference === 'string' ? data.reference : null;
        const report = body.event === 'charge.success' ? reportOf(data) : null;
        return { eventId: `${body.event}:${subject}`, eventType: body.event, reference, report };
      },
    },
  };
}

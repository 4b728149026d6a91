import type { ProviderReport } from '../../core/payment.js';
import type { RefundReport } from '../../core/refund.js';
import { callProvider, isRecord, type PaymentProvider, type RefundResult, type WebhookEvent } from './provider.js';
import { singleHeader, verifyPaystackSignature } from './signatures.js';

/**
 * Paystack: POST /transaction/initialize starts a transaction under our reference and returns the
 * hosted checkout page (authorization_url), which becomes next_action {type: "redirect"};
 * GET /transaction/verify/:reference reports it. Amounts are in minor units (kobo), Bearer secret key.
 * Answers are `{status: boolean, message, data}`. Webhooks are signed with `x-paystack-signature`,
 * the HMAC-SHA512 of the raw body with the same secret key.
 *
 * Refunds: POST /refund {transaction: our reference, amount, currency, merchant_note} queues a full
 * refund; GET /refund/:id, or GET /refund?reference=… when its id was never learnt, reports it. Refund
 * statuses: processed → succeeded; failed → failed; pending, processing and needs-attention → pending.
 * Webhooks: `refund.processed` and `refund.failed`, naming the transaction by `transaction_reference`.
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

const refundStatuses: Record<string, RefundReport['status']> = { processed: 'succeeded', failed: 'failed' };

function refundReportOf(data: Record<string, unknown>): RefundReport {
  const status = typeof data.status === 'string' ? data.status : '';
  const id = typeof data.id === 'number' || typeof data.id === 'string' ? String(data.id) : null;
  return { status: refundStatuses[status] ?? 'pending', providerRefundId: id, reason: status === 'processed' ? undefined : status || undefined };
}

const refundEvents = new Set(['refund.processed', 'refund.failed']);

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

    async refund(request): Promise<RefundResult> {
      const call = await callProvider(
        `${base}/refund`,
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            transaction: request.reference,
            amount: request.amount,
            currency: request.currency,
            merchant_note: `Refund ${request.refundId}: ${request.reason}`.slice(0, 500),
          }),
        },
        options.timeoutMs,
      );
      if (call.kind === 'unavailable') return { refused: false, report: { status: 'pending', providerRefundId: null, reason: `provider ${call.reason}` } };
      const body = call.body;
      if (call.status !== 200 || !isRecord(body) || body.status !== true || !isRecord(body.data)) {
        return { refused: true, reason: isRecord(body) && typeof body.message === 'string' ? body.message : `status ${call.status}` };
      }
      const report = refundReportOf(body.data);
      if (report.status === 'failed') return { refused: true, reason: report.reason ?? 'failed' };
      return { refused: false, report };
    },

    async findRefund(lookup) {
      const unknown = (reason: string): RefundReport => ({ status: 'pending', providerRefundId: lookup.provider_refund_id, reason });
      const url = lookup.provider_refund_id
        ? `${base}/refund/${encodeURIComponent(lookup.provider_refund_id)}`
        : `${base}/refund?${new URLSearchParams({ reference: lookup.reference }).toString()}`;
      const call = await callProvider(url, { method: 'GET', headers }, options.timeoutMs);
      if (call.kind === 'unavailable') return unknown(`provider ${call.reason}`);
      const body = call.body;
      if (call.status === 404) return null;
      if (call.status !== 200 || !isRecord(body) || body.status !== true) return unknown(`provider answered ${call.status}`);
      if (isRecord(body.data)) return refundReportOf(body.data);
      if (!Array.isArray(body.data)) return unknown('unreadable answer');
      // A transaction has at most one refund that is not failed (Paystack refuses refunding more than was paid).
      const reports = body.data.filter(isRecord).map(refundReportOf);
      return reports.find((r) => r.status !== 'failed') ?? reports[0] ?? null;
    },

    webhooks: {
      verifySignature: ({ rawBody, headers: given }) => verifyPaystackSignature(singleHeader(given['x-paystack-signature']), rawBody, options.secretKey),
      parseEvent(body): WebhookEvent | null {
        if (!isRecord(body) || typeof body.event !== 'string' || !isRecord(body.data)) return null;
        const data = body.data;
        const string = (value: unknown) => (typeof value === 'string' ? value : null);
        // Paystack events carry no event id of their own: the transaction (or refund) id or reference with
        // the event name identifies a delivery, and redeliveries repeat it.
        const subject = typeof data.id === 'number' || typeof data.id === 'string' ? String(data.id) : (string(data.reference) ?? string(data.refund_reference) ?? string(data.transaction_reference));
        if (subject === null) return null;
        if (refundEvents.has(body.event)) {
          const report = refundReportOf(data);
          return {
            eventId: `${body.event}:${subject}`,
            eventType: body.event,
            reference: string(data.transaction_reference),
            report: null,
            refund: { report: { ...report, status: body.event === 'refund.processed' ? 'succeeded' : 'failed' }, providerPaymentId: null },
          };
        }
        const report = body.event === 'charge.success' ? reportOf(data) : null;
        return { eventId: `${body.event}:${subject}`, eventType: body.event, reference: string(data.reference), report };
      },
    },
  };
}

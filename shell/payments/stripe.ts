import type { ProviderReport } from '../../core/payment.js';
import type { RefundReport } from '../../core/refund.js';
import { callProvider, isRecord, type NextAction, type PaymentProvider, type RefundResult, type WebhookEvent } from './provider.js';
import { singleHeader, verifyStripeSignature } from './signatures.js';

/**
 * Stripe PaymentIntents: POST /v1/payment_intents (form-encoded: amount in minor units, currency in lower
 * case, metadata[reference]) creates the intent, with our reference as Stripe's Idempotency-Key so a
 * retried initiate never makes a second intent; GET /v1/payment_intents/:id reports it.
 *
 * next_action: a PaymentIntent is completed by the client (Stripe.js with the intent's client_secret),
 * which this API's payment shape does not carry; when the intent itself holds a redirect
 * (`next_action.redirect_to_url.url`) it is passed on as {type: "redirect", url}, otherwise null.
 *
 * Status mapping: succeeded → succeeded; canceled → failed; requires_payment_method after an attempt
 * (last_payment_error set) → failed (declined); a fresh requires_payment_method, requires_confirmation,
 * requires_action, processing and requires_capture → pending (the client or Stripe still has to act).
 *
 * Refunds: POST /v1/refunds (payment_intent, metadata[refund_id], metadata[reference]) with our refund id
 * as Stripe's Idempotency-Key, so a retried or reconciled request never refunds twice; GET
 * /v1/refunds/:id, or GET /v1/refunds?payment_intent=… when its id was never learnt, reports it.
 * Refund statuses: succeeded → succeeded; pending and requires_action → pending; failed and canceled →
 * failed (refused, when that is the answer to the request itself). Webhooks: `charge.refunded` (a charge
 * fully refunded) and `refund.updated` (a refund's status changed).
 */

export interface StripeOptions {
  baseUrl: string;
  secretKey: string;
  webhookSecret: string | null;
  timeoutMs: number;
}

function nextActionOf(intent: Record<string, unknown>): NextAction {
  const next = intent.next_action;
  if (isRecord(next) && isRecord(next.redirect_to_url) && typeof next.redirect_to_url.url === 'string') {
    return { type: 'redirect', url: next.redirect_to_url.url };
  }
  return null;
}

function reportOf(intent: Record<string, unknown>): ProviderReport {
  const status = typeof intent.status === 'string' ? intent.status : '';
  const metadata = isRecord(intent.metadata) ? intent.metadata : {};
  const lastError = isRecord(intent.last_payment_error) ? intent.last_payment_error : null;
  const declined = status === 'requires_payment_method' && lastError !== null;
  const amount = status === 'succeeded' && typeof intent.amount_received === 'number' ? intent.amount_received : intent.amount;
  const errorReason = lastError ? String(lastError.decline_code ?? lastError.code ?? 'declined') : undefined;
  return {
    status: status === 'succeeded' ? 'succeeded' : status === 'canceled' || declined ? 'failed' : 'pending',
    reference: typeof metadata.reference === 'string' ? metadata.reference : null,
    amount: typeof amount === 'number' && Number.isInteger(amount) ? amount : null,
    currency: typeof intent.currency === 'string' ? intent.currency.toUpperCase() : null,
    reason: status === 'canceled' ? `canceled${typeof intent.cancellation_reason === 'string' ? `: ${intent.cancellation_reason}` : ''}` : declined ? errorReason : status === 'succeeded' ? undefined : status,
  };
}

const settlingEvents = new Set(['payment_intent.succeeded', 'payment_intent.payment_failed', 'payment_intent.canceled']);

const refundStatuses: Record<string, RefundReport['status']> = { succeeded: 'succeeded', pending: 'pending', requires_action: 'pending', failed: 'failed', canceled: 'failed' };

function refundReportOf(refund: Record<string, unknown>): RefundReport {
  const status = typeof refund.status === 'string' ? refund.status : '';
  const metadata = isRecord(refund.metadata) ? refund.metadata : {};
  return {
    status: refundStatuses[status] ?? 'pending',
    refundId: typeof metadata.refund_id === 'string' ? metadata.refund_id : null,
    providerRefundId: typeof refund.id === 'string' ? refund.id : null,
    reason: typeof refund.failure_reason === 'string' ? refund.failure_reason : status === 'succeeded' ? undefined : status || undefined,
  };
}

const errorMessage = (body: unknown, status: number) =>
  isRecord(body) && isRecord(body.error) && typeof body.error.message === 'string' ? body.error.message : `status ${status}`;

/** What a refund event says, and about which payment (metadata[reference] of ours, and the intent). */
function refundEventOf(type: string, object: Record<string, unknown>): WebhookEvent['refund'] {
  const providerPaymentId = typeof object.payment_intent === 'string' ? object.payment_intent : null;
  if (type === 'charge.refunded' && object.object === 'charge') {
    // Sent for partial refunds too; only a charge refunded in full refunds the payment.
    if (object.refunded !== true) return null;
    const refunds = isRecord(object.refunds) && Array.isArray(object.refunds.data) ? object.refunds.data.filter(isRecord) : [];
    const latest = refunds[0];
    return { report: { status: 'succeeded', providerRefundId: latest && typeof latest.id === 'string' ? latest.id : null }, providerPaymentId };
  }
  if (type === 'refund.updated' && object.object === 'refund') return { report: refundReportOf(object), providerPaymentId };
  return null;
}

export function createStripeProvider(options: StripeOptions): PaymentProvider {
  const base = options.baseUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${options.secretKey}`, accept: 'application/json' };

  const provider: PaymentProvider = {
    name: 'stripe',

    async initialize(input) {
      const form = new URLSearchParams({
        amount: String(input.amount),
        currency: input.currency.toLowerCase(),
        'metadata[reference]': input.reference,
        'metadata[order_id]': input.order_id,
        'automatic_payment_methods[enabled]': 'true',
      });
      const call = await callProvider(
        `${base}/v1/payment_intents`,
        { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': input.reference }, body: form.toString() },
        options.timeoutMs,
      );
      if (call.kind === 'unavailable') return { ok: false, reason: call.reason };
      const body = call.body;
      if (call.status !== 200 || !isRecord(body) || typeof body.id !== 'string') return { ok: false, reason: `rejected: ${errorMessage(body, call.status)}` };
      return { ok: true, providerPaymentId: body.id, nextAction: nextActionOf(body) };
    },

    async verify(payment) {
      const unknown = (reason: string): ProviderReport => ({ status: 'pending', reference: payment.reference, amount: null, currency: null, reason });
      if (!payment.provider_payment_id) return unknown('the payment was never started at the provider');
      const call = await callProvider(`${base}/v1/payment_intents/${encodeURIComponent(payment.provider_payment_id)}`, { method: 'GET', headers }, options.timeoutMs);
      if (call.kind === 'unavailable') return unknown(`provider ${call.reason}`);
      if (call.status !== 200 || !isRecord(call.body)) return unknown(`provider answered ${call.status}`);
      return reportOf(call.body);
    },

    async refund(request): Promise<RefundResult> {
      if (!request.provider_payment_id) return { refused: true, reason: 'the payment was never started at the provider' };
      const form = new URLSearchParams({
        payment_intent: request.provider_payment_id,
        'metadata[refund_id]': request.refundId,
        'metadata[reference]': request.reference,
      });
      const call = await callProvider(
        `${base}/v1/refunds`,
        { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': request.refundId }, body: form.toString() },
        options.timeoutMs,
      );
      if (call.kind === 'unavailable') return { refused: false, report: { status: 'pending', refundId: request.refundId, providerRefundId: null, reason: `provider ${call.reason}` } };
      if (call.status !== 200 || !isRecord(call.body) || call.body.object !== 'refund') return { refused: true, reason: errorMessage(call.body, call.status) };
      const report = refundReportOf(call.body);
      if (report.status === 'failed') return { refused: true, reason: report.reason ?? 'failed' };
      return { refused: false, report };
    },

    async findRefund(lookup) {
      const unknown = (reason: string): RefundReport => ({ status: 'pending', refundId: lookup.refundId, providerRefundId: lookup.provider_refund_id, reason });
      if (lookup.provider_refund_id) {
        const call = await callProvider(`${base}/v1/refunds/${encodeURIComponent(lookup.provider_refund_id)}`, { method: 'GET', headers }, options.timeoutMs);
        if (call.kind === 'unavailable') return unknown(`provider ${call.reason}`);
        if (call.status === 404) return null;
        if (call.status !== 200 || !isRecord(call.body)) return unknown(`provider answered ${call.status}`);
        return refundReportOf(call.body);
      }
      if (!lookup.provider_payment_id) return null;
      const query = new URLSearchParams({ payment_intent: lookup.provider_payment_id, limit: '100' });
      const call = await callProvider(`${base}/v1/refunds?${query.toString()}`, { method: 'GET', headers }, options.timeoutMs);
      if (call.kind === 'unavailable') return unknown(`provider ${call.reason}`);
      if (call.status !== 200 || !isRecord(call.body) || !Array.isArray(call.body.data)) return unknown(`provider answered ${call.status}`);
      const reports = call.body.data.filter(isRecord).map(refundReportOf);
      // Ours if Stripe has it; else a refund made some other way that gave the money back.
      return reports.find((r) => r.refundId === lookup.refundId) ?? reports.find((r) => r.status === 'succeeded') ?? null;
    },
  };

  if (options.webhookSecret) {
    const secret = options.webhookSecret;
    provider.webhooks = {
      verifySignature: ({ rawBody, headers: given, now }) => verifyStripeSignature(singleHeader(given['stripe-signature']), rawBody, secret, now),
      parseEvent(body): WebhookEvent | null {
        if (!isRecord(body) || typeof body.id !== 'string' || typeof body.type !== 'string' || !isRecord(body.data) || !isRecord(body.data.object)) return null;
        const object = body.data.object;
        const metadata = isRecord(object.metadata) ? object.metadata : {};
        const reference = typeof metadata.reference === 'string' ? metadata.reference : null;
        let report: ProviderReport | null = null;
        if (settlingEvents.has(body.type) && object.object === 'payment_intent') {
          report = reportOf(object);
          // A payment_failed event settles the attempt even though the intent can be retried by the client.
          if (body.type === 'payment_intent.payment_failed') report = { ...report, status: 'failed', reason: report.reason ?? 'declined' };
        }
        return { eventId: body.id, eventType: body.type, reference, report, refund: refundEventOf(body.type, object) };
      },
    };
  }
  return provider;
}

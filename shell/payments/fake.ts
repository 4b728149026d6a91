import type { PaymentProvider } from './provider.js';

/**
 * The fake provider, for development and tests only (never enabled in production): nothing leaves the
 * process. It approves at confirm, except `method: "fake_decline"` (declined) and `method: "fake_pending"`
 * (stays pending). No redirect, so next_action is null. It has no webhooks.
 *
 * Refunds succeed at once, except for payments made with `method: "fake_refund_pending"`, whose refund
 * stays pending until it is looked up again (the reconcile job's next run), which finds it succeeded.
 */
export function createFakeProvider(): PaymentProvider {
  return {
    name: 'fake',
    async initialize(input) {
      return { ok: true, providerPaymentId: `fake_${input.reference}`, nextAction: null };
    },
    async verify(payment) {
      const base = { reference: payment.reference, amount: payment.amount, currency: payment.currency };
      if (payment.method === 'fake_decline') return { ...base, status: 'failed', reason: 'declined' };
      if (payment.method === 'fake_pending') return { ...base, status: 'pending', reason: 'The payment is still processing' };
      return { ...base, status: 'succeeded' };
    },
    async refund(request) {
      const providerRefundId = `fake_refund_${request.refundId}`;
      if (request.method === 'fake_refund_pending') return { refused: false, report: { status: 'pending', providerRefundId, reason: 'The refund is still processing' } };
      return { refused: false, report: { status: 'succeeded', providerRefundId } };
    },
    async findRefund(lookup) {
      return { status: 'succeeded', providerRefundId: lookup.provider_refund_id ?? `fake_refund_${lookup.refundId}` };
    },
  };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canTransitionOrder } from '../../core/order.js';
import {
  confirmationAnswer,
  decideInitiation,
  decidePayable,
  decideReport,
  PAYMENT_STATUSES,
  transitionPayment,
  type OrderPaymentFacts,
  type PaymentState,
  type PaymentStatus,
  type ProviderReport,
} from '../../core/payment.js';

const now = new Date('2026-11-25T12:00:00.000Z');
const later = new Date('2026-11-25T12:30:00.000Z');

const order = (fields: Partial<OrderPaymentFacts> = {}): OrderPaymentFacts => ({
  status: 'pending_payment',
  total: 5000,
  currency: 'USD',
  payment_due_by: later,
  paidByAnotherPayment: false,
  ...fields,
});
const payment = (fields: Partial<PaymentState> = {}): PaymentState => ({ status: 'pending', reference: 'nx_1', amount: 5000, currency: 'USD', needs_refund: false, ...fields });
const success: ProviderReport = { status: 'succeeded', reference: 'nx_1', amount: 5000, currency: 'USD' };

describe('the payment state machine', () => {
  it('allows pending to become succeeded, failed or cancelled, succeeded to become refunded, and nothing else', () => {
    const allowed = new Set(['pending>succeeded', 'pending>failed', 'pending>cancelled', 'succeeded>refunded']);
    expect([...PAYMENT_STATUSES].sort()).toEqual(['cancelled', 'failed', 'pending', 'refunded', 'succeeded']);
    for (const from of PAYMENT_STATUSES) {
      for (const to of PAYMENT_STATUSES) {
        const result = transitionPayment(from, to);
        expect(result.ok, `${from} → ${to}`).toBe(allowed.has(`${from}>${to}`));
        if (!result.ok) expect(result.error.type).toBe('payment_not_pending');
      }
    }
  });
});

describe('when an order may be paid', () => {
  it('is payable while pending_payment and before payment_due_by', () => {
    expect(decidePayable(order(), now).ok).toBe(true);
  });

  it('refuses an order past payment_due_by, even by the exact due time, with order_not_payable', () => {
    const result = decidePayable(order(), later);
    expect(result).toMatchObject({ ok: false, error: { type: 'order_not_payable' } });
  });

  it('refuses paid, refunded, cancelled and expired orders with order_not_payable', () => {
    for (const status of ['paid', 'refunded', 'cancelled', 'expired'] as const) {
      expect(decidePayable(order({ status }), now)).toMatchObject({ ok: false, error: { type: 'order_not_payable' } });
    }
  });
});

describe('starting a payment', () => {
  it("creates a pending payment for exactly the order's total and currency", () => {
    const result = decideInitiation(order({ total: 4321, currency: 'NGN' }), null, { id: 'p1', reference: 'nx_a' }, now);
    expect(result).toEqual({ ok: true, value: { kind: 'create', payment: { id: 'p1', reference: 'nx_a', amount: 4321, currency: 'NGN', status: 'pending' } } });
  });

  it('returns the pending payment the order already has', () => {
    const existing = { status: 'pending' as PaymentStatus, id: 'old' };
    expect(decideInitiation(order(), existing, { id: 'p1', reference: 'nx_a' }, now)).toEqual({ ok: true, value: { kind: 'existing', payment: existing } });
  });

  it('refuses an order that is not payable', () => {
    expect(decideInitiation(order({ status: 'paid' }), null, { id: 'p1', reference: 'nx_a' }, now)).toMatchObject({ ok: false, error: { type: 'order_not_payable' } });
  });
});

describe("a provider's report", () => {
  it('marks a matching success succeeded and the order paid', () => {
    const d = decideReport(payment(), order(), success, now);
    expect(d.outcome).toBe('paid');
    expect(d.effect.payment).toMatchObject({ status: 'succeeded', needs_refund: false, succeeded_at: now });
    expect(d.effect.order).toEqual({ status: 'paid', paid_at: now });
  });

  it('fails the payment (and flags the money for refund) when amount, currency or reference does not match', () => {
    for (const [report, reason] of [
      [{ ...success, amount: 4999 }, 'amount_mismatch'],
      [{ ...success, currency: 'EUR' }, 'currency_mismatch'],
      [{ ...success, reference: 'nx_other' }, 'reference_mismatch'],
      [{ ...success, amount: null }, 'amount_mismatch'],
    ] as const) {
      const d = decideReport(payment(), order(), report, now);
      expect(d.outcome, reason).toBe('failed');
      expect(d.effect.payment).toMatchObject({ status: 'failed', failure_reason: reason, needs_refund: true });
      expect(d.effect.order).toBeNull();
      expect(confirmationAnswer('pending', d)).toMatchObject({ ok: false, error: { type: 'payment_failed' } });
    }
  });

  it('accepts the currency in either case', () => {
    expect(decideReport(payment(), order(), { ...success, currency: 'usd' }, now).outcome).toBe('paid');
  });

  it('fails the payment on a decline, answering 402 payment_failed', () => {
    const d = decideReport(payment(), order(), { status: 'failed', reference: 'nx_1', amount: 5000, currency: 'USD', reason: 'declined' }, now);
    expect(d.effect.payment).toMatchObject({ status: 'failed', needs_refund: false, failure_reason: 'declined' });
    expect(confirmationAnswer('pending', d)).toMatchObject({ ok: false, error: { type: 'payment_failed' } });
  });

  it('leaves the payment pending when the provider has not settled it or could not be asked', () => {
    const d = decideReport(payment(), order(), { status: 'pending', reference: 'nx_1', amount: null, currency: null, reason: 'provider timeout' }, now);
    expect(d).toMatchObject({ outcome: 'still_pending', effect: { payment: null, order: null } });
    expect(confirmationAnswer('pending', d).ok).toBe(true);
  });

  it('cancels a still-unsettled payment of an order that can no longer be paid, answering order_not_payable', () => {
    const unsettled: ProviderReport = { status: 'pending', reference: 'nx_1', amount: null, currency: null };
    for (const o of [order({ status: 'expired' }), order({ status: 'cancelled' }), order({ payment_due_by: now }), order({ status: 'paid', paidByAnotherPayment: true })]) {
      const d = decideReport(payment(), o, unsettled, now);
      expect(d.outcome).toBe('cancelled');
      expect(d.effect).toEqual({ payment: { status: 'cancelled', needs_refund: false, failure_reason: 'order_not_payable', succeeded_at: null }, order: null });
      expect(confirmationAnswer('pending', d)).toMatchObject({ ok: false, error: { type: 'order_not_payable' } });
    }
  });

  it('records a late success for an expired or cancelled order as succeeded with needs_refund, without touching the order', () => {
    for (const o of [order({ status: 'expired' }), order({ status: 'cancelled' }), order({ payment_due_by: now })]) {
      const d = decideReport(payment(), o, success, now);
      expect(d.outcome).toBe('flagged_for_refund');
      expect(d.effect.payment).toMatchObject({ status: 'succeeded', needs_refund: true });
      expect(d.effect.order).toBeNull();
      expect(confirmationAnswer('pending', d)).toMatchObject({ ok: false, error: { type: 'order_not_payable' } });
    }
  });

  it('flags a success for an order another payment already paid, without a second succeeded payment', () => {
    const d = decideReport(payment(), order({ status: 'paid', paidByAnotherPayment: true }), success, now);
    expect(d.outcome).toBe('flagged_for_refund');
    expect(d.effect.payment).toMatchObject({ status: 'cancelled', needs_refund: true });
    expect(d.effect.order).toBeNull();
  });

  it('flags once a success reported for a failed or cancelled payment, keeping its status', () => {
    for (const status of ['failed', 'cancelled'] as const) {
      const d = decideReport(payment({ status }), order(), success, now);
      expect(d.outcome).toBe('flagged_for_refund');
      expect(d.effect.payment).toMatchObject({ status, needs_refund: true });
      expect(decideReport(payment({ status, needs_refund: true }), order(), success, now).outcome).toBe('no_change');
      expect(confirmationAnswer(status, d)).toMatchObject({ ok: false, error: { type: 'payment_not_pending' } });
    }
  });

  it('changes nothing for a succeeded payment, whatever the report, and answers it unchanged', () => {
    for (const status of ['succeeded', 'failed', 'pending'] as const) {
      const d = decideReport(payment({ status: 'succeeded' }), order({ status: 'paid' }), { ...success, status }, now);
      expect(d).toMatchObject({ outcome: 'no_change', effect: { payment: null, order: null } });
      expect(confirmationAnswer('succeeded', d).ok).toBe(true);
    }
  });

  it('changes nothing for a refunded payment, whatever the report: a success reported again is not flagged for refund', () => {
    for (const status of ['succeeded', 'failed', 'pending'] as const) {
      for (const o of [order({ status: 'refunded' }), order({ status: 'pending_payment' })]) {
        const d = decideReport(payment({ status: 'refunded' }), o, { ...success, status }, now);
        expect(d).toMatchObject({ outcome: 'no_change', effect: { payment: null, order: null } });
        expect(confirmationAnswer('refunded', d).ok).toBe(true);
      }
    }
  });
});

describe('properties', () => {
  const reportArb = fc.record({
    status: fc.constantFrom('succeeded' as const, 'failed' as const, 'pending' as const),
    reference: fc.constantFrom('nx_1', 'nx_2', null),
    amount: fc.option(fc.constantFrom(5000, 4999, 0), { nil: null }),
    currency: fc.option(fc.constantFrom('USD', 'usd', 'EUR'), { nil: null }),
  });
  const orderStatusArb = fc.constantFrom('pending_payment' as const, 'paid' as const, 'refunded' as const, 'cancelled' as const, 'expired' as const);

  it('never pays an order twice and never moves a payment outside the machine, over any sequence of reports', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ report: reportArb, minutes: fc.integer({ min: 0, max: 60 }), which: fc.constantFrom(0, 1) }), { maxLength: 30 }),
        orderStatusArb,
        (steps, initialOrderStatus) => {
          // Two payments of one order (one may be left over from an earlier attempt), as the shell loads them.
          const payments: PaymentState[] = [payment({ reference: 'nx_1' }), payment({ reference: 'nx_2', status: 'failed' })];
          let orderStatus: OrderPaymentFacts['status'] = initialOrderStatus;
          let timesPaid = 0;
          for (const step of steps) {
            const at = new Date(now.getTime() + step.minutes * 60_000);
            const current = payments[step.which]!;
            const other = payments[1 - step.which]!;
            const d = decideReport(current, order({ status: orderStatus, paidByAnotherPayment: other.status === 'succeeded' }), step.report, at);
            if (d.effect.payment && d.effect.payment.status !== current.status) {
              expect(transitionPayment(current.status, d.effect.payment.status).ok).toBe(true);
            }
            if (d.effect.order) {
              expect(orderStatus).toBe('pending_payment');
              expect(canTransitionOrder(orderStatus, d.effect.order.status)).toBe(true);
              orderStatus = 'paid';
              timesPaid += 1;
            }
            if (d.effect.payment) payments[step.which] = { ...current, ...d.effect.payment };
          }
          expect(timesPaid).toBeLessThanOrEqual(initialOrderStatus === 'pending_payment' ? 1 : 0);
          expect(payments.filter((p) => p.status === 'succeeded' && !p.needs_refund).length).toBeLessThanOrEqual(1);
          // A paid order has exactly one succeeded payment that is not being refunded.
          if (timesPaid === 1) expect(payments.filter((p) => p.status === 'succeeded' && !p.needs_refund)).toHaveLength(1);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses every transition out of a settled status, except a succeeded payment becoming refunded', () => {
    fc.assert(
      fc.property(fc.constantFrom<PaymentStatus>('succeeded', 'failed', 'cancelled', 'refunded'), fc.constantFrom(...PAYMENT_STATUSES), (from, to) => {
        expect(transitionPayment(from, to).ok).toBe(from === 'succeeded' && to === 'refunded');
      }),
    );
  });

  it('never changes a settled payment\'s status on a report, and moves a pending one only along the table', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PAYMENT_STATUSES), fc.boolean(), orderStatusArb, fc.boolean(), reportArb, fc.integer({ min: 0, max: 60 }), (status, needsRefund, orderStatus, paidByAnother, report, minutes) => {
        const before = payment({ status, needs_refund: needsRefund });
        const d = decideReport(before, order({ status: orderStatus, paidByAnotherPayment: paidByAnother }), report, new Date(now.getTime() + minutes * 60_000));
        const after = d.effect.payment?.status ?? status;
        if (status === 'pending') {
          if (after !== status) expect(transitionPayment(status, after).ok).toBe(true);
        } else expect(after).toBe(status);
        if (d.effect.order) expect(canTransitionOrder(orderStatus, d.effect.order.status) && after === 'succeeded').toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('only ever marks the order paid with a report matching reference, amount and currency', () => {
    fc.assert(
      fc.property(reportArb, (report) => {
        const d = decideReport(payment(), order(), report, now);
        if (d.effect.order) {
          expect(report).toMatchObject({ status: 'succeeded', reference: 'nx_1', amount: 5000 });
          expect(report.currency?.toUpperCase()).toBe('USD');
        }
      }),
    );
  });
});

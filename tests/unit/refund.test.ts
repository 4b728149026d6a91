import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../core/order.js';
import { canTransitionOrder } from '../../core/order.js';
import { transitionPayment, type PaymentStatus } from '../../core/payment.js';
import type { Actor } from '../../core/policy.js';
import {
  decideRefundRefusal,
  decideRefundReport,
  decideRefundRequest,
  holdsPayment,
  PROVIDER_INITIATED_REASON,
  refundAnswer,
  type RefundablePayment,
  type RefundReport,
  type RefundState,
} from '../../core/refund.js';

const now = new Date('2026-11-25T12:00:00.000Z');
const later = new Date('2026-11-25T12:05:00.000Z');
const admin: Actor = { id: 'admin-1', role: 'admin' };

const payment = (fields: Partial<RefundablePayment> = {}): RefundablePayment => ({ id: 'pay-1', status: 'succeeded', amount: 5000, currency: 'USD', needs_refund: false, ...fields });
const refund = (fields: Partial<RefundState> = {}): RefundState => ({
  id: 'ref-1',
  payment_id: 'pay-1',
  status: 'pending',
  amount: 5000,
  currency: 'USD',
  reason: 'Customer returned the items',
  provider_refund_id: null,
  failure_reason: null,
  requested_at: now,
  completed_at: null,
  ...fields,
});
const fresh = { id: 'ref-new', reason: '  Damaged in transit  ' };
const external = { id: 'ref-ext' };
const succeeded: RefundReport = { status: 'succeeded', providerRefundId: 're_1' };

describe('who may refund which payment', () => {
  it('lets an admin refund a succeeded payment in full: a pending refund of its whole amount and currency, the reason trimmed', () => {
    expect(decideRefundRequest(admin, payment(), null, fresh, now)).toEqual({
      ok: true,
      value: { id: 'ref-new', payment_id: 'pay-1', status: 'pending', amount: 5000, currency: 'USD', reason: 'Damaged in transit', provider_refund_id: null, failure_reason: null, requested_at: now, completed_at: null },
    });
  });

  it('refuses customers and vendors with forbidden, even the customer who paid', () => {
    for (const role of ['customer', 'vendor'] as const) {
      expect(decideRefundRequest({ id: 'u', role }, payment(), null, fresh, now)).toMatchObject({ ok: false, error: { type: 'forbidden' } });
    }
  });

  it('refuses a payment that is not succeeded with payment_not_refundable', () => {
    for (const status of ['pending', 'failed', 'cancelled', 'refunded'] as const) {
      for (const needs_refund of [false, true]) {
        expect(decideRefundRequest(admin, payment({ status, needs_refund }), null, fresh, now), status).toMatchObject({ ok: false, error: { type: 'payment_not_refundable' } });
      }
    }
  });

  it('refuses a payment whose refund is pending or done, and lets a failed refund be asked again', () => {
    expect(decideRefundRequest(admin, payment(), refund(), fresh, now)).toMatchObject({ ok: false, error: { type: 'payment_not_refundable', detail: 'A refund of this payment is already pending' } });
    expect(decideRefundRequest(admin, payment(), refund({ status: 'succeeded', completed_at: now }), fresh, now)).toMatchObject({ ok: false, error: { type: 'payment_not_refundable' } });
    expect(decideRefundRequest(admin, payment(), refund({ status: 'failed', completed_at: now }), fresh, now)).toMatchObject({ ok: true, value: { id: 'ref-new', status: 'pending' } });
  });

  it('refuses an empty or over-long reason', () => {
    expect(decideRefundRequest(admin, payment(), null, { id: 'r', reason: '   ' }, now)).toMatchObject({ ok: false, error: { type: 'validation_failed', errors: [{ path: 'reason' }] } });
    expect(decideRefundRequest(admin, payment(), null, { id: 'r', reason: 'x'.repeat(501) }, now).ok).toBe(false);
    expect(decideRefundRequest(admin, payment(), null, { id: 'r', reason: 'x'.repeat(500) }, now).ok).toBe(true);
  });
});

describe("what a provider's refund report does", () => {
  it('refunds the payment that paid its order: payment refunded, order refunded, stock returned, the refund succeeded', () => {
    const d = decideRefundReport(payment(), { status: 'paid' }, refund(), succeeded, later, external);
    expect(d.outcome).toBe('refunded');
    expect(d.effect).toEqual({
      refund: { next: refund({ status: 'succeeded', provider_refund_id: 're_1', completed_at: later }), created: false },
      payment: { status: 'refunded', needs_refund: false, refunded_at: later },
      order: { status: 'refunded', refunded_at: later },
      returnsStock: true,
    });
  });

  it('just unflags a late payment flagged needs_refund, leaving its expired or cancelled order and its stock alone', () => {
    for (const status of ['expired', 'cancelled', 'pending_payment'] as const) {
      const d = decideRefundReport(payment({ needs_refund: true }), { status }, refund(), succeeded, later, external);
      expect(d.outcome).toBe('refunded');
      expect(d.effect).toMatchObject({ payment: { status: 'refunded', needs_refund: false }, order: null, returnsStock: false });
    }
  });

  it('changes nothing when the success is already recorded, however often it is reported', () => {
    const done = refund({ status: 'succeeded', completed_at: now });
    const d = decideRefundReport(payment({ status: 'refunded' }), { status: 'refunded' }, done, succeeded, later, external);
    expect(d).toMatchObject({ outcome: 'no_change', effect: { refund: null, payment: null, order: null, returnsStock: false } });
  });

  it('marks a failed refund failed and changes nothing else; the payment stays succeeded and refundable', () => {
    const d = decideRefundReport(payment(), { status: 'paid' }, refund({ provider_refund_id: 're_1' }), { status: 'failed', providerRefundId: 're_1', reason: 'expired_or_canceled_card' }, later, external);
    expect(d.outcome).toBe('refund_failed');
    expect(d.effect).toEqual({
      refund: { next: refund({ status: 'failed', provider_refund_id: 're_1', failure_reason: 'expired_or_canceled_card', completed_at: later }), created: false },
      payment: null,
      order: null,
      returnsStock: false,
    });
    expect(decideRefundRequest(admin, payment(), d.effect.refund!.next, fresh, later).ok).toBe(true);
  });

  it('ignores a failure or pending report about another refund than the pending one', () => {
    const pending = refund({ provider_refund_id: 're_2' });
    expect(decideRefundReport(payment(), { status: 'paid' }, pending, { status: 'failed', providerRefundId: 're_1' }, later, external).outcome).toBe('no_change');
    expect(decideRefundReport(payment(), { status: 'paid' }, pending, { status: 'failed', refundId: 'ref-other', providerRefundId: null }, later, external).outcome).toBe('no_change');
  });

  it("learns the provider's id of a pending refund from a pending report, and changes nothing else", () => {
    const d = decideRefundReport(payment(), { status: 'paid' }, refund(), { status: 'pending', providerRefundId: '9000001' }, later, external);
    expect(d).toMatchObject({ outcome: 'refund_pending', effect: { refund: { next: { status: 'pending', provider_refund_id: '9000001' } }, payment: null, order: null } });
    const again = decideRefundReport(payment(), { status: 'paid' }, refund({ provider_refund_id: '9000001' }), { status: 'pending', providerRefundId: '9000001' }, later, external);
    expect(again).toMatchObject({ outcome: 'refund_pending', effect: { refund: null } });
  });

  it('records a success nobody asked for here (made at the provider) as a refund, and refunds the payment and its order', () => {
    for (const latest of [null, refund({ status: 'failed', completed_at: now })]) {
      const d = decideRefundReport(payment(), { status: 'paid' }, latest, succeeded, later, external);
      expect(d.outcome).toBe('refunded');
      expect(d.effect.refund).toEqual({
        next: refund({ id: 'ref-ext', status: 'succeeded', reason: PROVIDER_INITIATED_REASON, provider_refund_id: 're_1', requested_at: later, completed_at: later }),
        created: true,
      });
      expect(d.effect.returnsStock).toBe(true);
    }
  });

  it('changes nothing on a failure or pending report with no refund pending', () => {
    for (const status of ['failed', 'pending'] as const) {
      expect(decideRefundReport(payment(), { status: 'paid' }, null, { status, providerRefundId: null }, later, external).outcome).toBe('no_change');
    }
  });

  it('changes nothing for a payment that is not succeeded, whatever the report', () => {
    for (const status of ['pending', 'failed', 'cancelled'] as const) {
      expect(decideRefundReport(payment({ status, needs_refund: true }), { status: 'expired' }, null, succeeded, later, external).outcome).toBe('no_change');
    }
  });
});

describe('answers', () => {
  it('withdraws the refund a provider refused while it is still pending, and answers provider_error', () => {
    expect(decideRefundRefusal(refund(), 'ref-1', 'charge_already_refunded')).toMatchObject({ withdraw: true, error: { type: 'provider_error' } });
    expect(decideRefundRefusal(refund({ status: 'succeeded', completed_at: now }), 'ref-1', 'x').withdraw).toBe(false);
    expect(decideRefundRefusal(refund({ id: 'other' }), 'ref-1', 'x').withdraw).toBe(false);
  });

  it('answers refunded, pending, or provider_error for a failed refund', () => {
    expect(refundAnswer(refund({ status: 'succeeded' }))).toEqual({ ok: true, value: 'refunded' });
    expect(refundAnswer(refund())).toEqual({ ok: true, value: 'pending' });
    expect(refundAnswer(refund({ status: 'failed', failure_reason: 'lost_card' }))).toMatchObject({ ok: false, error: { type: 'provider_error' } });
  });
});

describe('properties', () => {
  interface Model {
    order: OrderStatus;
    payments: (RefundablePayment & { tookMoney: boolean })[];
    refunds: RefundState[];
    stockReturns: number;
    ordersRefunded: number;
  }

  /** How the order and its payments can stand when refunds start: a paid order, or a late payment for an order that can no longer be paid. */
  const scenarioArb = fc.constantFrom<() => Model>(
    () => ({
      order: 'paid',
      payments: [
        { ...payment({ id: 'pay-1' }), tookMoney: true },
        // A second payment that succeeded after the order was paid: cancelled and flagged.
        { ...payment({ id: 'pay-2', status: 'cancelled', needs_refund: true }), tookMoney: true },
      ],
      refunds: [],
      stockReturns: 0,
      ordersRefunded: 0,
    }),
    () => ({ order: 'expired', payments: [{ ...payment({ id: 'pay-1', needs_refund: true }), tookMoney: true }], refunds: [], stockReturns: 0, ordersRefunded: 0 }),
    () => ({ order: 'cancelled', payments: [{ ...payment({ id: 'pay-1', needs_refund: true }), tookMoney: true }], refunds: [], stockReturns: 0, ordersRefunded: 0 }),
    () => ({ order: 'pending_payment', payments: [{ ...payment({ id: 'pay-1', status: 'pending' }), tookMoney: false }, { ...payment({ id: 'pay-2', status: 'failed' }), tookMoney: false }], refunds: [], stockReturns: 0, ordersRefunded: 0 }),
  );

  const stepArb = fc.oneof(
    fc.record({ kind: fc.constant('request' as const), which: fc.constantFrom(0, 1), role: fc.constantFrom('admin' as const, 'admin' as const, 'customer' as const, 'vendor' as const) }),
    fc.record({
      kind: fc.constant('report' as const),
      which: fc.constantFrom(0, 1),
      status: fc.constantFrom('succeeded' as const, 'pending' as const, 'failed' as const),
      names: fc.constantFrom('latest' as const, 'other' as const, 'none' as const),
    }),
    fc.record({ kind: fc.constant('refusal' as const), which: fc.constantFrom(0, 1) }),
  );

  it('returns stock at most once, refunds an order at most once, never refunds more than was paid, and keeps one refund in flight or done per payment', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(stepArb, { maxLength: 40 }), (scenario, steps) => {
        const m = scenario();
        const initialOrder = m.order;
        let seq = 0;
        const latestOf = (paymentId: string) => [...m.refunds].reverse().find((r) => r.payment_id === paymentId) ?? null;
        for (const step of steps) {
          const p = m.payments[step.which];
          if (!p) continue;
          const at = new Date(now.getTime() + ++seq * 1000);
          const latest = latestOf(p.id);
          if (step.kind === 'request') {
            const asked = decideRefundRequest({ id: 'u', role: step.role }, p, latest, { id: `ref-${seq}`, reason: 'why' }, at);
            if (asked.ok) m.refunds.push(asked.value);
            continue;
          }
          if (step.kind === 'refusal') {
            if (latest && decideRefundRefusal(latest, latest.id, 'no').withdraw) m.refunds = m.refunds.filter((r) => r.id !== latest.id);
            continue;
          }
          const report: RefundReport = {
            status: step.status,
            refundId: step.names === 'latest' ? latest?.id ?? null : step.names === 'other' ? 'someone-else' : null,
            providerRefundId: null,
          };
          const before = p.status;
          const d = decideRefundReport(p, { status: m.order }, latest, report, at, { id: `ext-${seq}` });
          if (d.effect.refund) {
            const next = d.effect.refund.next;
            if (d.effect.refund.created) m.refunds.push(next);
            else m.refunds = m.refunds.map((r) => (r.id === next.id ? next : r));
          }
          if (d.effect.payment) {
            expect(transitionPayment(before, d.effect.payment.status).ok).toBe(true);
            Object.assign(p, { status: d.effect.payment.status, needs_refund: d.effect.payment.needs_refund });
          }
          if (d.effect.order) {
            expect(canTransitionOrder(m.order, d.effect.order.status)).toBe(true);
            m.order = d.effect.order.status;
            m.ordersRefunded += 1;
          }
          if (d.effect.returnsStock) {
            expect(d.effect.order).not.toBeNull();
            m.stockReturns += 1;
          }
          // One refund in flight or done per payment, as the partial unique index holds it.
          for (const q of m.payments) expect(m.refunds.filter((r) => r.payment_id === q.id && holdsPayment(r)).length).toBeLessThanOrEqual(1);
        }
        expect(m.stockReturns).toBeLessThanOrEqual(1);
        expect(m.ordersRefunded).toBeLessThanOrEqual(1);
        // Only the order's paying payment brings the order and its stock back; a late payment never does.
        if (initialOrder !== 'paid') expect(m.order).toBe(initialOrder);
        const paid = m.payments.filter((q) => q.tookMoney).reduce((sum, q) => sum + q.amount, 0);
        const refunded = m.refunds.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0);
        expect(refunded).toBeLessThanOrEqual(paid);
        for (const q of m.payments) {
          const back = m.refunds.filter((r) => r.payment_id === q.id && r.status === 'succeeded');
          expect(back.reduce((sum, r) => sum + r.amount, 0)).toBeLessThanOrEqual(q.tookMoney ? q.amount : 0);
          // A payment is refunded exactly when one of its refunds succeeded.
          expect(q.status === 'refunded').toBe(back.length === 1);
          if (q.status === 'refunded') expect(q.needs_refund).toBe(false);
        }
        expect(m.order === 'refunded').toBe(m.stockReturns === 1);
      }),
      { numRuns: 1000 },
    );
  });

  it('never lets anyone but an admin ask, and never asks for a payment that is not succeeded', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Actor['role']>('admin', 'customer', 'vendor'),
        fc.constantFrom<PaymentStatus>('pending', 'succeeded', 'failed', 'cancelled', 'refunded'),
        fc.boolean(),
        fc.option(fc.constantFrom('pending' as const, 'succeeded' as const, 'failed' as const), { nil: null }),
        (role, status, needs_refund, latestStatus) => {
          const latest = latestStatus ? refund({ status: latestStatus, completed_at: latestStatus === 'pending' ? null : now }) : null;
          const asked = decideRefundRequest({ id: 'u', role }, payment({ status, needs_refund }), latest, fresh, now);
          expect(asked.ok).toBe(role === 'admin' && status === 'succeeded' && latestStatus !== 'pending' && latestStatus !== 'succeeded');
          if (asked.ok) expect(asked.value.amount).toBe(5000);
        },
      ),
    );
  });
});

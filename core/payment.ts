import { fail, ok, type DomainError, type Result } from './errors.js';
import { canTransitionOrder, type OrderStatus } from './order.js';

/**
 * Payments: the payment state machine, when an order may be paid, and what a provider's report does.
 *
 * A payment is `pending` until a provider's report settles it: `succeeded`, `failed`, or `cancelled`
 * (the shell gave it up, e.g. the provider could not be reached to start it). A succeeded payment may
 * later be `refunded`; nothing else leaves a settled state. A success report is accepted only when it
 * names the payment's reference, amount and currency; anything else fails the payment. An order goes
 * `pending_payment` → `paid` only through a succeeded payment, and only while it is payable, so it is
 * paid at most once.
 *
 * Money already taken is never dropped silently: a success reported for an order that is no longer
 * payable (expired, cancelled, past its due time, already paid) or with the wrong amount is recorded
 * with `needs_refund = true`, which admins list with `GET /payments/?needs_refund=true`.
 */

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'cancelled', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const transitions: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ['succeeded', 'failed', 'cancelled'],
  succeeded: ['refunded'],
  failed: [],
  cancelled: [],
  refunded: [],
};

/** The machine: pending → succeeded | failed | cancelled, succeeded → refunded, nothing else. */
export function transitionPayment(from: PaymentStatus, to: PaymentStatus): Result<PaymentStatus> {
  if (transitions[from].includes(to)) return ok(to);
  return fail({ type: 'payment_not_pending', detail: `A ${from} payment cannot become ${to}` });
}

/** Whether a provider's report may still settle the payment: the machine still lets it succeed. */
const unsettled = (status: PaymentStatus): boolean => transitions[status].includes('succeeded');

/** Settled without taking money: a success reported for it means money may have been taken after all. */
const tookNoMoney = (status: PaymentStatus): boolean => status === 'failed' || status === 'cancelled';

export interface PayableOrder {
  status: OrderStatus;
  total: number;
  currency: string;
  payment_due_by: Date;
}

/** An order may be paid while the order machine lets it become paid (pending_payment) and before its payment_due_by. */
export function decidePayable(order: PayableOrder, now: Date): Result<void> {
  if (!canTransitionOrder(order.status, 'paid')) {
    return fail({ type: 'order_not_payable', detail: `The order is ${order.status}` });
  }
  if (now.getTime() >= order.payment_due_by.getTime()) {
    return fail({ type: 'order_not_payable', detail: 'The order is past its payment due time' });
  }
  return ok(undefined);
}

export interface NewPayment {
  id: string;
  reference: string;
  amount: number;
  currency: string;
  status: 'pending';
}

/**
 * Starting a payment: the order must be payable; a pending payment for it is returned as it is;
 * otherwise a new pending payment for exactly the order's total.
 */
export function decideInitiation<P extends { status: PaymentStatus }>(
  order: PayableOrder,
  pending: P | null,
  fresh: { id: string; reference: string },
  now: Date,
): Result<{ kind: 'existing'; payment: P } | { kind: 'create'; payment: NewPayment }> {
  const payable = decidePayable(order, now);
  if (!payable.ok) return payable;
  if (pending) return ok({ kind: 'existing', payment: pending });
  return ok({ kind: 'create', payment: { id: fresh.id, reference: fresh.reference, amount: order.total, currency: order.currency, status: 'pending' } });
}

/** What a provider says about a payment (from a confirm-time lookup or a webhook). */
export interface ProviderReport {
  /** `pending` also covers "unknown": timeouts, 5xx and unreadable answers are never a failure. */
  status: 'succeeded' | 'failed' | 'pending';
  reference: string | null;
  amount: number | null;
  currency: string | null;
  reason?: string | undefined;
}

export interface PaymentState {
  status: PaymentStatus;
  reference: string;
  amount: number;
  currency: string;
  needs_refund: boolean;
}

/** What a report needs to know of the payment's order. */
export interface OrderPaymentFacts extends PayableOrder {
  /** Whether another payment of this order already succeeded. */
  paidByAnotherPayment: boolean;
}

/** What to write after a report; `null` fields are left unchanged. */
export interface ReportEffect {
  payment: { status: PaymentStatus; needs_refund: boolean; failure_reason: string | null; succeeded_at: Date | null } | null;
  order: { status: 'paid'; paid_at: Date } | null;
}

export type ReportOutcome =
  /** The payment succeeded and its order is now paid. */
  | 'paid'
  /** The provider has not settled it yet (or could not be asked). */
  | 'still_pending'
  /** The provider declined, or its report did not match (amount, currency, reference). */
  | 'failed'
  /** Money was taken for an order that can no longer be paid: recorded and flagged for refund. */
  | 'flagged_for_refund'
  /** Nothing was taken and the order can no longer be paid: the payment is cancelled. */
  | 'cancelled'
  /** The report repeats what is already recorded. */
  | 'no_change';

export interface ReportDecision {
  outcome: ReportOutcome;
  effect: ReportEffect;
  detail: string;
}

const nothing: ReportEffect = { payment: null, order: null };

function mismatch(payment: PaymentState, report: ProviderReport): string | null {
  if (report.reference !== payment.reference) return 'reference_mismatch';
  if (report.amount !== payment.amount) return 'amount_mismatch';
  if (report.currency === null || report.currency.toUpperCase() !== payment.currency.toUpperCase()) return 'currency_mismatch';
  return null;
}

/** Where a report would settle an unsettled payment; null while the provider has not settled it. */
interface Settlement {
  outcome: Exclude<ReportOutcome, 'still_pending' | 'no_change'>;
  status: PaymentStatus;
  needs_refund: boolean;
  failure_reason: string | null;
  /** Only a matching success for a payable order pays it. */
  paysOrder: boolean;
  detail: string;
}

function settlement(payment: PaymentState, order: OrderPaymentFacts, report: ProviderReport, now: Date): Settlement | null {
  const payable = decidePayable(order, now);
  if (report.status === 'pending') {
    if (payable.ok && !order.paidByAnotherPayment) return null;
    // Nothing was taken yet and the order can no longer be paid: stop here. Should the provider
    // still take the money, its late success finds the payment cancelled and is flagged for refund.
    return {
      outcome: 'cancelled',
      status: 'cancelled',
      needs_refund: false,
      failure_reason: 'order_not_payable',
      paysOrder: false,
      detail: `${payable.ok ? 'The order was already paid' : payable.error.detail ?? 'The order is not payable'}; the unsettled payment is cancelled`,
    };
  }

  if (report.status === 'failed') {
    return {
      outcome: 'failed',
      status: 'failed',
      needs_refund: false,
      failure_reason: report.reason ?? 'declined',
      paysOrder: false,
      detail: `The provider reports the payment failed${report.reason ? ` (${report.reason})` : ''}`,
    };
  }

  const wrong = mismatch(payment, report);
  if (wrong) {
    // The provider says it took money, but not the money we asked for: the payment fails and what was
    // taken is flagged for refund.
    return { outcome: 'failed', status: 'failed', needs_refund: true, failure_reason: wrong, paysOrder: false, detail: `The provider's report does not match the payment (${wrong})` };
  }

  if (order.paidByAnotherPayment) {
    // One succeeded payment per order: a second one stays out of `succeeded` and is refunded.
    return {
      outcome: 'flagged_for_refund',
      status: 'cancelled',
      needs_refund: true,
      failure_reason: 'order_already_paid',
      paysOrder: false,
      detail: 'The order was already paid by another payment; this one is flagged for refund',
    };
  }

  if (!payable.ok) {
    return {
      outcome: 'flagged_for_refund',
      status: 'succeeded',
      needs_refund: true,
      failure_reason: 'order_not_payable',
      paysOrder: false,
      detail: `${payable.error.detail ?? 'The order is not payable'}; the payment is recorded and flagged for refund`,
    };
  }

  return { outcome: 'paid', status: 'succeeded', needs_refund: false, failure_reason: null, paysOrder: true, detail: 'Payment succeeded; the order is paid' };
}

/**
 * Applies a provider's report to a payment and its order. Pure: the shell writes `effect` in the same
 * transaction that read the states, and chooses its answer from `outcome`. Every status change goes
 * through the machines: the payment's through `transitionPayment`, the order's through
 * `canTransitionOrder` (in decidePayable).
 */
export function decideReport(payment: PaymentState, order: OrderPaymentFacts, report: ProviderReport, now: Date): ReportDecision {
  const wanted = settlement(payment, order, report, now);
  if (wanted) {
    const moved = transitionPayment(payment.status, wanted.status);
    if (moved.ok) {
      return {
        outcome: wanted.outcome,
        effect: {
          payment: { status: moved.value, needs_refund: wanted.needs_refund, failure_reason: wanted.failure_reason, succeeded_at: moved.value === 'succeeded' ? now : null },
          order: wanted.paysOrder ? { status: 'paid', paid_at: now } : null,
        },
        detail: wanted.detail,
      };
    }
  }
  if (unsettled(payment.status)) return { outcome: 'still_pending', effect: nothing, detail: report.reason ?? 'The provider has not settled the payment yet' };

  // A settled payment never changes state on a report. A success reported for one that took no money
  // (failed or cancelled) means money may have been taken after all: flag it once.
  if (report.status === 'succeeded' && tookNoMoney(payment.status) && !payment.needs_refund) {
    return {
      outcome: 'flagged_for_refund',
      effect: { payment: { status: payment.status, needs_refund: true, failure_reason: null, succeeded_at: null }, order: null },
      detail: `The provider reports a success for a ${payment.status} payment; flagged for refund`,
    };
  }
  return { outcome: 'no_change', effect: nothing, detail: `The payment is already ${payment.status}` };
}

/**
 * The answer to `POST /payments/confirm/` for a payment in `before` state after `decision`:
 * ok (200 with the payment) or the problem to answer with. Effects are committed either way.
 */
export function confirmationAnswer(before: PaymentStatus, decision: ReportDecision): Result<void> {
  if (tookNoMoney(before)) return fail({ type: 'payment_not_pending', detail: `The payment is ${before}` });
  switch (decision.outcome) {
    case 'paid':
    case 'still_pending':
    case 'no_change':
      return ok(undefined);
    case 'failed':
      return fail({ type: 'payment_failed', detail: decision.detail });
    case 'flagged_for_refund':
    case 'cancelled': {
      const error: DomainError = { type: 'order_not_payable', detail: decision.detail };
      return fail(error);
    }
  }
}

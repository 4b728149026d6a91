import { fail, ok, type DomainError, type Result } from './errors.js';
import { canTransitionOrder, type OrderStatus } from './order.js';
import { transitionPayment, type PaymentStatus } from './payment.js';
import { isAdmin, type Actor } from './policy.js';

/**
 * Refunds: who may refund which payment, and what a provider's word about a refund does.
 *
 * Only admins refund, and only a succeeded payment, in full. A payment has at most one refund in flight
 * or done (pending or succeeded; the database holds the same rule as a partial unique index); a failed
 * refund leaves the payment as it was and may be asked again. When the provider reports the refund
 * succeeded, the payment becomes refunded (succeeded → refunded, the one way out of succeeded); when that
 * payment is the one that paid its order (not flagged needs_refund, and the order is paid), the order
 * becomes refunded and its stock comes back, which the order machine allows once (paid → refunded); a late
 * payment flagged needs_refund just stops being flagged, its order left as it is. A failure marks the
 * refund failed and changes nothing else. Reports are idempotent: one that repeats what is recorded
 * changes nothing, so a webhook racing the request that asked for the refund is applied once.
 */

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_REASON_MAX_LENGTH = 500;

/** What a refund recorded for a refund the provider reported that nobody asked for here (made at the provider). */
export const PROVIDER_INITIATED_REASON = 'Refunded at the payment provider';

export interface RefundState {
  id: string;
  payment_id: string;
  status: RefundStatus;
  amount: number;
  currency: string;
  reason: string;
  provider_refund_id: string | null;
  failure_reason: string | null;
  requested_at: Date;
  completed_at: Date | null;
}

export interface RefundablePayment {
  id: string;
  status: PaymentStatus;
  amount: number;
  currency: string;
  needs_refund: boolean;
}

/** A refund in flight or done holds its payment, so no other may be asked; a failed one does not. */
export const holdsPayment = (refund: Pick<RefundState, 'status'>): boolean => refund.status !== 'failed';

/** The refund that holds the payment, from its latest refund (the only one that can). */
const holding = (latest: RefundState | null): RefundState | null => (latest && holdsPayment(latest) ? latest : null);

/**
 * POST /payments/{id}/refund/: an admin asks for the payment's money back. Refused with forbidden for
 * anyone else, and with payment_not_refundable for a payment that is not succeeded or whose refund is
 * pending or done. The refund is for exactly the payment's amount and currency, pending until the
 * provider answers.
 */
export function decideRefundRequest(
  actor: Actor,
  payment: RefundablePayment,
  latest: RefundState | null,
  fresh: { id: string; reason: string },
  now: Date,
): Result<RefundState> {
  if (!isAdmin(actor)) return fail({ type: 'forbidden', detail: 'Only admins may refund a payment' });
  const held = holding(latest);
  if (held) {
    return fail({
      type: 'payment_not_refundable',
      detail: held.status === 'pending' ? 'A refund of this payment is already pending' : 'The payment is already refunded',
    });
  }
  if (!transitionPayment(payment.status, 'refunded').ok) {
    return fail({ type: 'payment_not_refundable', detail: `The payment is ${payment.status}; only a succeeded payment can be refunded` });
  }
  const reason = fresh.reason.trim();
  if (reason.length < 1 || reason.length > REFUND_REASON_MAX_LENGTH) {
    return fail({ type: 'validation_failed', detail: 'Invalid reason', errors: [{ path: 'reason', message: `must be 1 to ${REFUND_REASON_MAX_LENGTH} characters` }] });
  }
  return ok({
    id: fresh.id,
    payment_id: payment.id,
    status: 'pending',
    amount: payment.amount,
    currency: payment.currency,
    reason,
    provider_refund_id: null,
    failure_reason: null,
    requested_at: now,
    completed_at: null,
  });
}

/** What a provider says about a payment's refund (its answer to the request, a lookup, or a webhook). */
export interface RefundReport {
  /** `pending` also covers "unknown": a timeout or an unreadable answer is never a failure, as money may have moved. */
  status: 'succeeded' | 'pending' | 'failed';
  /** Our refund id, when the provider echoes it back (Stripe keeps it in the refund's metadata). */
  refundId?: string | null | undefined;
  providerRefundId: string | null;
  reason?: string | undefined;
}

export interface RefundOrderFacts {
  status: OrderStatus;
}

/** What to write after a report; null parts are left unchanged. */
export interface RefundEffect {
  /** The refund as it is to be stored; `created` when it is a new row (a refund made at the provider). */
  refund: { next: RefundState; created: boolean } | null;
  payment: { status: 'refunded'; needs_refund: false; refunded_at: Date } | null;
  order: { status: 'refunded'; refunded_at: Date } | null;
  /** The order's lines go back into stock (only ever with `order`). */
  returnsStock: boolean;
}

export type RefundOutcome =
  /** The money is back: the payment is refunded (and, if it paid its order, the order too). */
  | 'refunded'
  /** The provider has not finished the refund yet (or could not be asked). */
  | 'refund_pending'
  /** The provider reports the refund failed; the payment stays succeeded and may be refunded again. */
  | 'refund_failed'
  /** The report repeats what is recorded, or is about no refund of ours. */
  | 'no_change';

export interface RefundDecision {
  outcome: RefundOutcome;
  effect: RefundEffect;
  detail: string;
}

const nothing: RefundEffect = { refund: null, payment: null, order: null, returnsStock: false };

/** Whether a report that names a refund names this one (a report naming none is about whichever is in flight). */
function names(refund: RefundState, report: RefundReport): boolean {
  if (report.refundId && report.refundId !== refund.id) return false;
  if (report.providerRefundId && refund.provider_refund_id && report.providerRefundId !== refund.provider_refund_id) return false;
  return true;
}

/**
 * Applies a provider's report about a payment's refund. `latest` is the payment's latest refund (null if
 * none); `external` gives the id and reason of a refund to record when the provider reports a success
 * nobody asked for here (made in the provider's dashboard): the money is back either way. Pure: the shell
 * writes `effect` in the transaction that read the states, and the stock with it.
 *
 * A success refunds the payment whatever refund it names (the provider took the money back); a failure
 * or a pending answer only touches the pending refund it names.
 */
export function decideRefundReport(
  payment: RefundablePayment,
  order: RefundOrderFacts,
  latest: RefundState | null,
  report: RefundReport,
  now: Date,
  external: { id: string; reason?: string },
): RefundDecision {
  const held = holding(latest);
  if (report.status === 'succeeded') {
    if (held?.status === 'succeeded') return { outcome: 'no_change', effect: nothing, detail: 'The refund is already recorded' };
    const moved = transitionPayment(payment.status, 'refunded');
    if (!moved.ok) return { outcome: 'no_change', effect: nothing, detail: `The payment is ${payment.status}; a refund success changes nothing` };
    const next: RefundState = held
      ? { ...held, status: 'succeeded', provider_refund_id: held.provider_refund_id ?? report.providerRefundId, completed_at: now }
      : {
          id: external.id,
          payment_id: payment.id,
          status: 'succeeded',
          amount: payment.amount,
          currency: payment.currency,
          reason: external.reason ?? PROVIDER_INITIATED_REASON,
          provider_refund_id: report.providerRefundId,
          failure_reason: null,
          requested_at: now,
          completed_at: now,
        };
    // The payment that paid its order is the one succeeded payment not flagged for refund (one per order).
    const paidItsOrder = !payment.needs_refund && canTransitionOrder(order.status, 'refunded');
    return {
      outcome: 'refunded',
      effect: {
        refund: { next, created: held === null },
        payment: { status: 'refunded', needs_refund: false, refunded_at: now },
        order: paidItsOrder ? { status: 'refunded', refunded_at: now } : null,
        returnsStock: paidItsOrder,
      },
      detail: paidItsOrder
        ? 'The refund succeeded; the payment and its order are refunded'
        : payment.needs_refund
          ? 'The refund succeeded; the payment is refunded and no longer flagged for refund'
          : 'The refund succeeded; the payment is refunded',
    };
  }

  if (held?.status !== 'pending' || !names(held, report)) {
    return { outcome: 'no_change', effect: nothing, detail: held ? `The refund is already ${held.status}` : 'No refund of this payment is pending' };
  }
  if (report.status === 'failed') {
    const reason = report.reason ?? 'failed';
    return {
      outcome: 'refund_failed',
      effect: { ...nothing, refund: { next: { ...held, status: 'failed', provider_refund_id: held.provider_refund_id ?? report.providerRefundId, failure_reason: reason, completed_at: now }, created: false } },
      detail: `The provider reports the refund failed (${reason}); the payment may be refunded again`,
    };
  }
  // Still pending: only learn the provider's id for it, if it was not known yet.
  const learnt = held.provider_refund_id === null && report.providerRefundId !== null;
  return {
    outcome: 'refund_pending',
    effect: learnt ? { ...nothing, refund: { next: { ...held, provider_refund_id: report.providerRefundId }, created: false } } : nothing,
    detail: report.reason ?? 'The provider has not finished the refund yet',
  };
}

/**
 * The provider refused the request outright (nothing was refunded): the refund asked for is withdrawn
 * (when it is still the pending one), so nothing changed and the request may be made again.
 */
export function decideRefundRefusal(latest: RefundState | null, refundId: string, reason: string): { withdraw: boolean; error: DomainError } {
  return {
    withdraw: latest?.id === refundId && latest.status === 'pending',
    error: { type: 'provider_error', detail: `The payment provider refused the refund (${reason}); nothing changed, retry later` },
  };
}

/**
 * The answer to POST /payments/{id}/refund/ once the provider's answer is applied, from the refund asked
 * for as it now stands: refunded (200), still pending (202), or failed (502 provider_error).
 */
export function refundAnswer(refund: RefundState | null): Result<'refunded' | 'pending'> {
  if (refund?.status === 'succeeded') return ok('refunded');
  if (refund?.status === 'pending') return ok('pending');
  return fail({ type: 'provider_error', detail: `The payment provider reports the refund failed${refund?.failure_reason ? ` (${refund.failure_reason})` : ''}; the payment is unchanged` });
}

import { z } from 'zod';
import { PAYMENT_STATUSES } from '../../core/payment.js';
import type { Actor } from '../../core/policy.js';
import { REFUND_STATUSES } from '../../core/refund.js';
import { PROVIDER_NAMES, type ProviderName } from '../payments/provider.js';
import type { StoredPayment } from '../repos/payments.js';
import type { StoredRefund } from '../repos/refunds.js';
import { currency, money, timestamp } from './common.js';

const nextActionSchema = z
  .object({ type: z.literal('redirect'), url: z.string() })
  .nullable()
  .meta({ description: 'Where to send the customer to pay: `{type: "redirect", url}` (Paystack checkout page, or a Stripe redirect when the intent holds one), or null (fake; a Stripe intent completed client-side)' });

const refundSchema = z
  .object({
    status: z.enum(REFUND_STATUSES).meta({
      description: 'pending (the provider is still processing it; the reconcile job or a webhook finishes it), succeeded, or failed (the payment stays succeeded and may be refunded again)',
    }),
    amount: money.meta({ description: "Always the payment's whole amount, in minor units" }),
    reason: z.string().meta({ description: 'Why the admin refunded it (or that it was refunded at the provider)', example: 'Customer returned the items' }),
    requested_at: timestamp,
    completed_at: timestamp.nullable().meta({ description: 'When the provider finished it (succeeded or failed); null while pending' }),
  })
  .nullable()
  .meta({ id: 'PaymentRefund', description: "The payment's latest refund, or null if it was never refunded" });

export const paymentSchema = z
  .object({
    id: z.uuid(),
    order_id: z.uuid(),
    provider: z.enum(PROVIDER_NAMES as [ProviderName, ...ProviderName[]]),
    reference: z.string().meta({ description: 'Our reference, also the reference at the provider; confirm with it' }),
    amount: money.meta({ description: "Always the order's total at initiation, in minor units" }),
    currency,
    status: z.enum(PAYMENT_STATUSES).meta({
      description:
        'pending → succeeded | failed | cancelled; succeeded → refunded. cancelled: the provider could not be reached to start it, its order was cancelled or expired, ' +
        'or the order was already paid by another payment. refunded: an admin refunded it in full through its provider',
    }),
    method: z.string().nullable(),
    next_action: nextActionSchema,
    created_at: timestamp,
    refund: refundSchema,
    refunded_at: timestamp.nullable().meta({ description: 'When the refund succeeded; null unless refunded' }),
    needs_refund: z
      .boolean()
      .optional()
      .meta({
        description:
          'Admins only. true when the provider took money we cannot keep: a success for an order that had expired, was cancelled, was past payment_due_by or already paid, ' +
          'a success for a failed or cancelled payment, or a success with the wrong amount or currency. List them with GET /payments/?needs_refund=true',
      }),
  })
  .meta({ id: 'Payment' });

export type Payment = z.infer<typeof paymentSchema>;

/** The payment shape of API.md, with its latest refund (null if none); admins also see needs_refund. */
export function paymentView(p: StoredPayment, actor: Actor, refund: StoredRefund | null): Payment {
  return {
    id: p.id,
    order_id: p.order_id,
    provider: p.provider,
    reference: p.reference,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    method: p.method,
    next_action: p.next_action ?? null,
    created_at: p.created_at.toISOString(),
    refund: refund
      ? {
          status: refund.status,
          amount: refund.amount,
          reason: refund.reason,
          requested_at: refund.requested_at.toISOString(),
          completed_at: refund.completed_at?.toISOString() ?? null,
        }
      : null,
    refunded_at: p.refunded_at?.toISOString() ?? null,
    ...(actor.role === 'admin' ? { needs_refund: p.needs_refund } : {}),
  };
}

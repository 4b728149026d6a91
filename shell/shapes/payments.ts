import { z } from 'zod';
import { PAYMENT_STATUSES } from '../../core/payment.js';
import type { Actor } from '../../core/policy.js';
import { PROVIDER_NAMES, type ProviderName } from '../payments/provider.js';
import type { StoredPayment } from '../repos/payments.js';
import { currency, money, timestamp } from './common.js';

const nextActionSchema = z
  .object({ type: z.literal('redirect'), url: z.string() })
  .nullable()
  .meta({ description: 'Where to send the customer to pay: `{type: "redirect", url}` (Paystack checkout page, or a Stripe redirect when the intent holds one), or null (fake; a Stripe intent completed client-side)' });

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
        'pending → succeeded | failed | cancelled. cancelled: the provider could not be reached to start it, its order was cancelled or expired, ' +
        'or the order was already paid by another payment',
    }),
    method: z.string().nullable(),
    next_action: nextActionSchema,
    created_at: timestamp,
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

/** The payment shape of API.md; admins also see needs_refund. */
export function paymentView(p: StoredPayment, actor: Actor): Payment {
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
    ...(actor.role === 'admin' ? { needs_refund: p.needs_refund } : {}),
  };
}

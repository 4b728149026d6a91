import { z } from 'zod';
import { ORDER_STATUSES, type OrderStatus } from '../../core/order.js';
import type { OrderRecord } from '../repos/orders.js';
import { currency, money, timestamp } from './common.js';

export const orderSchema = z
  .object({
    id: z.uuid(),
    number: z.number().int().describe('Human-readable, sequential from 1000'),
    customer_id: z.uuid(),
    status: z.enum(ORDER_STATUSES as [OrderStatus, ...OrderStatus[]]).meta({
      description: 'pending_payment → paid → refunded; pending_payment → cancelled | expired. refunded: an admin refunded the payment that paid it, and its stock came back',
    }),
    items: z
      .array(z.object({ id: z.uuid(), product_id: z.uuid(), vendor_id: z.uuid(), name: z.string(), unit_price: money, quantity: z.number().int(), line_total: money }))
      .describe("A vendor sees only its own lines"),
    subtotal: money.describe("For a vendor: the sum of its own lines"),
    total: money,
    currency,
    shipping_address: z.object({
      line1: z.string(),
      line2: z.string().optional(),
      city: z.string(),
      region: z.string().optional(),
      postal_code: z.string(),
      country: z.string(),
    }),
    created_at: timestamp,
    payment_due_by: timestamp,
    paid_at: timestamp.nullable().meta({ description: 'When it was paid; kept when the order is later refunded' }),
    refunded_at: timestamp.nullable().meta({ description: 'When the payment that paid it was refunded; null unless refunded' }),
  })
  .meta({ id: 'Order' });

export type Order = z.infer<typeof orderSchema>;

export function orderView(order: OrderRecord): Order {
  return {
    id: order.id,
    number: order.number,
    customer_id: order.customer_id,
    status: order.status,
    items: order.items,
    subtotal: order.subtotal,
    total: order.total,
    currency: order.currency,
    shipping_address: order.shipping_address,
    created_at: order.created_at.toISOString(),
    payment_due_by: order.payment_due_by.toISOString(),
    paid_at: order.paid_at?.toISOString() ?? null,
    refunded_at: order.refunded_at?.toISOString() ?? null,
  };
}

import { randomUUID } from 'node:crypto';
import type { DB } from '../../db/database.js';
import type { PaystackStandIn } from './paystack-stand-in.js';
import type { StripeStandIn } from './stripe-stand-in.js';

/**
 * Orders made straight in the database for the payment tests, so they do not depend on the cart,
 * checkout and order routes: a closed cart, a completed checkout and a pending_payment order.
 */

export interface OrderFixture {
  id: string;
  total: number;
  currency: string;
}

export async function insertOrder(
  db: DB,
  customerId: string,
  options: { total?: number; currency?: string; dueBy?: Date; status?: 'pending_payment' | 'cancelled' | 'expired'; now?: Date } = {},
): Promise<OrderFixture> {
  const now = options.now ?? new Date();
  const total = options.total ?? 12_500;
  const currency = options.currency ?? 'USD';
  const cartId = randomUUID();
  const checkoutId = randomUUID();
  const orderId = randomUUID();
  const address = { line1: '1 Test Street', city: 'Lagos', postal_code: '100001', country: 'NG' };
  await db.insertInto('carts').values({ id: cartId, customer_id: customerId, status: 'closed', created_at: now, closed_at: now }).execute();
  await db
    .insertInto('checkouts')
    .values({
      id: checkoutId,
      cart_id: cartId,
      customer_id: customerId,
      status: 'completed',
      shipping_address: JSON.stringify(address),
      frozen_items: JSON.stringify([]),
      subtotal: total,
      total,
      confirmed_at: now,
      expires_at: new Date(now.getTime() + 15 * 60_000),
      created_at: now,
      updated_at: now,
    })
    .execute();
  const status = options.status ?? 'pending_payment';
  await db
    .insertInto('orders')
    .values({
      id: orderId,
      customer_id: customerId,
      checkout_id: checkoutId,
      status,
      subtotal: total,
      total,
      currency,
      shipping_address: JSON.stringify(address),
      payment_due_by: options.dueBy ?? new Date(now.getTime() + 30 * 60_000),
      cancelled_at: status === 'cancelled' ? now : null,
      expired_at: status === 'expired' ? now : null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return { id: orderId, total, currency };
}

export async function orderState(db: DB, orderId: string) {
  return db.selectFrom('orders').select(['status', 'paid_at']).where('id', '=', orderId).executeTakeFirstOrThrow();
}

export async function paymentsOf(db: DB, orderId: string) {
  return db.selectFrom('payments').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}

export async function setOrderStatus(db: DB, orderId: string, status: 'cancelled' | 'expired', at = new Date()) {
  await db
    .updateTable('orders')
    .set({ status, ...(status === 'cancelled' ? { cancelled_at: at } : { expired_at: at }), updated_at: at })
    .where('id', '=', orderId)
    .execute();
}

/** The environment that points the app's Stripe and Paystack adapters at the stand-ins. */
export function standInProviderEnv(stripe: StripeStandIn, paystack: PaystackStandIn): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_BASE_URL: stripe.url,
    PAYSTACK_SECRET_KEY: paystack.secretKey,
    PAYSTACK_BASE_URL: paystack.url,
  };
}

import { sql } from 'kysely';
import type { CheckoutState } from '../../core/checkout.js';
import type { DB, Trx } from '../../db/database.js';

/** checkouts: one per cart. */

export const checkoutColumns = ['id', 'cart_id', 'status', 'shipping_address', 'contact_phone', 'frozen_items', 'subtotal', 'total', 'confirmed_at', 'expires_at'] as const;

/** A checkout read as JSON, inside another row: its timestamps arrive as strings. */
export type CheckoutJson = Omit<CheckoutState, 'confirmed_at' | 'expires_at'> & { confirmed_at: string | null; expires_at: string | null };

/** A checkout read as JSON, as the state core takes. */
export function checkoutFromJson(row: CheckoutJson): CheckoutState {
  return { ...row, confirmed_at: row.confirmed_at === null ? null : new Date(row.confirmed_at), expires_at: row.expires_at === null ? null : new Date(row.expires_at) };
}

/**
 * The customer's active cart and its checkout made sure to exist, in one statement outside any transaction:
 * making an empty cart or an open checkout needs no isolation (the unique indexes keep one active cart per
 * customer and one checkout per cart), and an insert that finds its row already there does nothing.
 */
export async function ensureCartWithCheckout(db: DB, customerId: string, ids: { cartId: string; checkoutId: string }, now: Date): Promise<void> {
  // The statement's snapshot does not see the cart its own first INSERT makes: hence `made` beside `carts`.
  await sql`
    WITH made AS (
      INSERT INTO carts (id, customer_id, status, created_at) VALUES (${ids.cartId}::uuid, ${customerId}::uuid, 'active', ${now}::timestamptz)
      ON CONFLICT DO NOTHING RETURNING id
    ), cart AS (
      SELECT id FROM made UNION ALL SELECT id FROM carts WHERE customer_id = ${customerId}::uuid AND status = 'active'
    )
    INSERT INTO checkouts (id, cart_id, customer_id, status, created_at, updated_at)
    SELECT ${ids.checkoutId}::uuid, id, ${customerId}::uuid, 'open', ${now}::timestamptz, ${now}::timestamptz FROM cart LIMIT 1
    ON CONFLICT DO NOTHING`.execute(db);
}

export async function saveCheckout(trx: Trx, checkout: CheckoutState, now: Date): Promise<void> {
  await trx.updateTable('checkouts').set(checkoutChanges(checkout, now)).where('id', '=', checkout.id).execute();
}

/** Saves the completed checkout and closes its cart in one statement (the order that completes them is made). */
export async function saveCheckoutClosingCart(trx: Trx, checkout: CheckoutState, cartId: string, now: Date): Promise<void> {
  await trx
    .with('closed', (db) => db.updateTable('carts').set({ status: 'closed', closed_at: now }).where('id', '=', cartId))
    .updateTable('checkouts')
    .set(checkoutChanges(checkout, now))
    .where('id', '=', checkout.id)
    .execute();
}

function checkoutChanges(checkout: CheckoutState, now: Date) {
  return {
    status: checkout.status,
    shipping_address: checkout.shipping_address === null ? null : JSON.stringify(checkout.shipping_address),
    contact_phone: checkout.contact_phone,
    frozen_items: checkout.frozen_items === null ? null : JSON.stringify(checkout.frozen_items),
    subtotal: checkout.subtotal,
    total: checkout.total,
    confirmed_at: checkout.confirmed_at,
    expires_at: checkout.expires_at,
    updated_at: now,
  };
}

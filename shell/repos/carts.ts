import { sql } from 'kysely';
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres';
import type { CartLine, CartStatus } from '../../core/cart.js';
import type { CheckoutState } from '../../core/checkout.js';
import type { DB, Trx } from '../../db/database.js';
import { checkoutColumns, checkoutFromJson } from './checkouts.js';

/** carts and cart_items. */

export interface CartRow {
  id: string;
  customer_id: string;
  status: CartStatus;
}

/** An active cart with its lines (oldest first) and its checkout, if it has one. */
export interface CartWithContents extends CartRow {
  lines: CartLine[];
  checkout: CheckoutState | null;
}

/** The customer's active cart, its lines and its checkout in one query (one round trip, one snapshot). */
export async function findActiveCartWithContents(db: DB | Trx, customerId: string): Promise<CartWithContents | undefined> {
  const row = await db
    .selectFrom('carts as c')
    .select((eb) => [
      'c.id',
      'c.customer_id',
      'c.status',
      jsonArrayFrom(eb.selectFrom('cart_items as i').select(['i.id', 'i.product_id', 'i.quantity']).whereRef('i.cart_id', '=', 'c.id').orderBy('i.created_at').orderBy('i.id')).as('lines'),
      jsonObjectFrom(eb.selectFrom('checkouts as ch').select(checkoutColumns.map((col) => `ch.${col}` as const)).whereRef('ch.cart_id', '=', 'c.id')).as('checkout'),
    ])
    .where('c.customer_id', '=', customerId)
    .where('c.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, customer_id: row.customer_id, status: row.status, lines: row.lines, checkout: row.checkout ? checkoutFromJson(row.checkout) : null };
}

/**
 * The customer's active cart with its contents, created on first access. Two first accesses at once both
 * try the insert; the partial unique index lets one win and the other does nothing (under SERIALIZABLE
 * the loser gets a serialization failure and its retry finds the winner's cart).
 */
export async function findOrCreateActiveCartWithContents(trx: Trx, customerId: string, newId: string, now: Date): Promise<CartWithContents> {
  const found = await findActiveCartWithContents(trx, customerId);
  if (found) return found;
  await trx.insertInto('carts').values({ id: newId, customer_id: customerId, status: 'active', created_at: now }).onConflict((oc) => oc.doNothing()).execute();
  const created = await findActiveCartWithContents(trx, customerId);
  if (!created) throw new Error('active cart vanished after insert');
  return created;
}

/**
 * Makes sure the customer has an active cart, in one tiny statement before the flow's transaction:
 * creating an empty cart needs no isolation (the partial unique index keeps it one; an insert that finds
 * the customer's active cart there does nothing), and keeping the insert out of the SERIALIZABLE
 * transaction spares concurrent customers predicate-lock conflicts.
 */
export async function ensureActiveCart(db: DB, customerId: string, newId: string, now: Date): Promise<void> {
  await db.insertInto('carts').values({ id: newId, customer_id: customerId, status: 'active', created_at: now }).onConflict((oc) => oc.doNothing()).execute();
}

/** The customer's active cart and its checkout, if any, in one query. */
export async function findActiveCartWithCheckout(db: DB | Trx, customerId: string): Promise<{ cart: CartRow; checkout: CheckoutState | null } | undefined> {
  const row = await db
    .selectFrom('carts as c')
    .select((eb) => ['c.id', 'c.customer_id', 'c.status', jsonObjectFrom(eb.selectFrom('checkouts as ch').select(checkoutColumns.map((col) => `ch.${col}` as const)).whereRef('ch.cart_id', '=', 'c.id')).as('checkout')])
    .where('c.customer_id', '=', customerId)
    .where('c.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return undefined;
  return { cart: { id: row.id, customer_id: row.customer_id, status: row.status }, checkout: row.checkout ? checkoutFromJson(row.checkout) : null };
}

/** The items frozen in the customer's active checkout, each with its product's stock now; empty when none. */
export async function frozenItemsWithStock(db: DB, customerId: string): Promise<{ product_id: string; quantity: number; stock: number }[]> {
  const { rows } = await sql<{ product_id: string; quantity: number; stock: number }>`
    SELECT p.id AS product_id, (f.item->>'quantity')::int AS quantity, p.stock
    FROM carts c
    JOIN checkouts ch ON ch.cart_id = c.id
    CROSS JOIN LATERAL jsonb_array_elements(coalesce(ch.frozen_items, '[]'::jsonb)) AS f(item)
    JOIN products p ON p.id = (f.item->>'product_id')::uuid
    WHERE c.customer_id = ${customerId} AND c.status = 'active'`.execute(db);
  return rows;
}

/** The cart that holds an item, with its owner: for the 404-not-403 rule. */
export async function findCartOfItem(db: DB | Trx, itemId: string): Promise<{ cart_id: string; customer_id: string; status: 'active' | 'closed' } | undefined> {
  return db
    .selectFrom('cart_items as i')
    .innerJoin('carts as c', 'c.id', 'i.cart_id')
    .select(['c.id as cart_id', 'c.customer_id', 'c.status'])
    .where('i.id', '=', itemId)
    .executeTakeFirst();
}

export async function insertCartItem(trx: Trx, cartId: string, item: CartLine, now: Date): Promise<void> {
  await trx.insertInto('cart_items').values({ id: item.id, cart_id: cartId, product_id: item.product_id, quantity: item.quantity, created_at: now, updated_at: now }).execute();
}

export async function setCartItemQuantity(trx: Trx, itemId: string, quantity: number, now: Date): Promise<void> {
  await trx.updateTable('cart_items').set({ quantity, updated_at: now }).where('id', '=', itemId).execute();
}

export async function deleteCartItem(trx: Trx, itemId: string): Promise<void> {
  await trx.deleteFrom('cart_items').where('id', '=', itemId).execute();
}

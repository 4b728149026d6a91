import { sql } from 'kysely';
import { jsonObjectFrom } from 'kysely/helpers/postgres';
import type { CartLine, CartStatus } from '../../core/cart.js';
import type { CheckoutState, LiveProduct } from '../../core/checkout.js';
import type { DB, Trx } from '../../db/database.js';
import { checkoutColumns, checkoutFromJson, type CheckoutJson } from './checkouts.js';
import { liveProduct, type ProductFactsRow } from './stock.js';

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

/** What a cart flow decides on: the customer's active cart (null when they have none) and the products involved, as they are now. */
export interface CartSnapshot {
  cart: CartWithContents | null;
  /** The facts of every product in the cart's lines and of each `alsoProducts` id that exists. */
  products: Map<string, LiveProduct>;
}


/**
 * The customer's active cart, its lines, its checkout and the products of its lines plus `alsoProducts`
 * (the product being added), in one statement: one round trip, one snapshot. The products are read as
 * repos/stock.ts productFacts reads them. The one-row `(VALUES (1))` keeps the products coming when the
 * customer has no active cart; the lines are read once, and their product ids feed the products' lookup.
 */
export async function findActiveCartWithProducts(db: DB | Trx, customerId: string, alsoProducts: readonly string[] = []): Promise<CartSnapshot> {
  const checkoutSelect = sql.join(checkoutColumns.map((col) => sql.ref(`ch.${col}`)));
  const { rows } = await sql<{ id: string | null; customer_id: string | null; status: CartStatus | null; lines: CartLine[]; checkout: CheckoutJson | null; products: ProductFactsRow[] }>`
    SELECT c.id, c.customer_id, c.status, coalesce(l.lines, '[]') AS lines,
      (SELECT row_to_json(ch) FROM (SELECT ${checkoutSelect} FROM checkouts ch WHERE ch.cart_id = c.id) ch) AS checkout,
      (SELECT coalesce(json_agg(json_build_object(
                'id', p.id, 'vendor_id', p.vendor_id, 'name', p.name, 'unit_price', p.unit_price, 'stock', p.stock, 'is_active', p.is_active,
                'deleted_at', p.deleted_at, 'vendor_active', v.is_active, 'vendor_user_active', vu.is_active)), '[]')
         FROM products p JOIN vendors v ON v.id = p.vendor_id JOIN users vu ON vu.id = v.user_id
         WHERE p.id IN (SELECT unnest(coalesce(l.product_ids, '{}') || ${[...alsoProducts]}::uuid[]))) AS products
    FROM (VALUES (1)) AS one
    LEFT JOIN carts c ON c.customer_id = ${customerId} AND c.status = 'active'
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('id', i.id, 'product_id', i.product_id, 'quantity', i.quantity) ORDER BY i.created_at, i.id) AS lines, array_agg(i.product_id) AS product_ids
      FROM cart_items i WHERE i.cart_id = c.id
    ) l ON true`.execute(db);
  const row = rows[0]!;
  const products = new Map(row.products.map((p) => [p.id, liveProduct(p)] as const));
  if (row.id === null) return { cart: null, products };
  return {
    cart: { id: row.id, customer_id: row.customer_id!, status: row.status!, lines: row.lines, checkout: row.checkout ? checkoutFromJson(row.checkout) : null },
    products,
  };
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

export async function insertCartItem(trx: Trx, cartId: string, item: CartLine, now: Date): Promise<void> {
  await trx.insertInto('cart_items').values({ id: item.id, cart_id: cartId, product_id: item.product_id, quantity: item.quantity, created_at: now, updated_at: now }).execute();
}

// A line is written through its (cart_id, product_id) key, not its id: the flow has read the cart's lines
// through that index, so the write reads no other index page. Under SERIALIZABLE every page read is
// predicate-locked, and a page of the id index would be shared with other customers' new lines.

export async function setCartItemQuantity(trx: Trx, cartId: string, item: CartLine, now: Date): Promise<void> {
  await trx.updateTable('cart_items').set({ quantity: item.quantity, updated_at: now }).where('cart_id', '=', cartId).where('product_id', '=', item.product_id).execute();
}

export async function deleteCartItem(trx: Trx, cartId: string, item: CartLine): Promise<void> {
  await trx.deleteFrom('cart_items').where('cart_id', '=', cartId).where('product_id', '=', item.product_id).execute();
}

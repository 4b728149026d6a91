import type { CartLine, CartStatus } from '../../core/cart.js';
import type { DB, Trx } from '../../db/database.js';

/** carts and cart_items. */

export interface CartRow {
  id: string;
  customer_id: string;
  status: CartStatus;
}

export async function findActiveCart(db: DB | Trx, customerId: string): Promise<CartRow | undefined> {
  return db.selectFrom('carts').select(['id', 'customer_id', 'status']).where('customer_id', '=', customerId).where('status', '=', 'active').executeTakeFirst();
}

/**
 * The customer's active cart, created on first access. Two first accesses at once both try the insert;
 * the partial unique index lets one win and the other does nothing (under SERIALIZABLE the loser gets a
 * serialization failure and its retry finds the winner's cart).
 */
export async function findOrCreateActiveCart(trx: Trx, customerId: string, newId: string, now: Date): Promise<CartRow> {
  const found = await findActiveCart(trx, customerId);
  if (found) return found;
  await trx
    .insertInto('carts')
    .values({ id: newId, customer_id: customerId, status: 'active', created_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const created = await findActiveCart(trx, customerId);
  if (!created) throw new Error('active cart vanished after insert');
  return created;
}

/**
 * Makes sure the customer has an active cart, in its own tiny statement before the flow's transaction:
 * creating an empty cart needs no isolation (the partial unique index keeps it one), and keeping the
 * insert out of the SERIALIZABLE transaction spares concurrent customers predicate-lock conflicts.
 */
export async function ensureActiveCart(db: DB, customerId: string, newId: string, now: Date): Promise<string> {
  const found = await findActiveCart(db, customerId);
  if (found) return found.id;
  await db.insertInto('carts').values({ id: newId, customer_id: customerId, status: 'active', created_at: now }).onConflict((oc) => oc.doNothing()).execute();
  return (await findActiveCart(db, customerId))?.id ?? newId;
}

export async function cartLines(db: DB | Trx, cartId: string): Promise<CartLine[]> {
  return db.selectFrom('cart_items').select(['id', 'product_id', 'quantity']).where('cart_id', '=', cartId).orderBy('created_at').orderBy('id').execute();
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

export async function closeCart(trx: Trx, cartId: string, now: Date): Promise<void> {
  await trx.updateTable('carts').set({ status: 'closed', closed_at: now }).where('id', '=', cartId).execute();
}

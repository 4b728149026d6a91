import type { CheckoutState } from '../../core/checkout.js';
import type { DB, Trx } from '../../db/database.js';

/** checkouts: one per cart. */

const columns = ['id', 'cart_id', 'status', 'shipping_address', 'contact_phone', 'frozen_items', 'subtotal', 'total', 'confirmed_at', 'expires_at'] as const;

export async function findCheckoutOfCart(db: DB | Trx, cartId: string): Promise<CheckoutState | undefined> {
  return db.selectFrom('checkouts').select(columns).where('cart_id', '=', cartId).executeTakeFirst();
}

/** The cart's checkout, created on first access (one per cart: a racing creator does nothing and re-reads). */
export async function findOrCreateCheckout(trx: Trx, cartId: string, customerId: string, newId: string, now: Date): Promise<CheckoutState> {
  const found = await findCheckoutOfCart(trx, cartId);
  if (found) return found;
  await trx
    .insertInto('checkouts')
    .values({ id: newId, cart_id: cartId, customer_id: customerId, status: 'open', created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('cart_id').doNothing())
    .execute();
  const created = await findCheckoutOfCart(trx, cartId);
  if (!created) throw new Error('checkout vanished after insert');
  return created;
}

/** Like ensureActiveCart: the cart's checkout created, if missing, outside the flow's transaction. */
export async function ensureCheckout(db: DB, cartId: string, customerId: string, newId: string, now: Date): Promise<void> {
  if (await findCheckoutOfCart(db, cartId)) return;
  await db
    .insertInto('checkouts')
    .values({ id: newId, cart_id: cartId, customer_id: customerId, status: 'open', created_at: now, updated_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function saveCheckout(trx: Trx, checkout: CheckoutState, now: Date): Promise<void> {
  await trx
    .updateTable('checkouts')
    .set({
      status: checkout.status,
      shipping_address: checkout.shipping_address === null ? null : JSON.stringify(checkout.shipping_address),
      contact_phone: checkout.contact_phone,
      frozen_items: checkout.frozen_items === null ? null : JSON.stringify(checkout.frozen_items),
      subtotal: checkout.subtotal,
      total: checkout.total,
      confirmed_at: checkout.confirmed_at,
      expires_at: checkout.expires_at,
      updated_at: now,
    })
    .where('id', '=', checkout.id)
    .execute();
}

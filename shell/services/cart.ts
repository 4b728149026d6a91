import { randomUUID } from 'node:crypto';
import { cartView, decideAddItem, decideChangeQuantity, decideRemoveItem, type CartEdit, type CartState } from '../../core/cart.js';
import { reopen, type CheckoutState, type LiveLine, type LiveProduct } from '../../core/checkout.js';
import type { Result } from '../../core/errors.js';
import type { Trx } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { failure, unwrap } from '../../core/errors.js';
import { deleteCartItem, ensureActiveCart, findCartOfItem, findOrCreateActiveCartWithContents, insertCartItem, setCartItemQuantity } from '../repos/carts.js';
import { saveCheckout } from '../repos/checkouts.js';
import { productFacts } from '../repos/stock.js';
import { cartItemView, type Cart, type CartItem } from '../shapes/cart.js';
import { inSerializableTx } from '../tx.js';

/** Cart use cases: GET /cart/ and the cart-item edits, each in one SERIALIZABLE transaction. */

export interface LoadedCart {
  cart: CartState;
  checkout: CheckoutState | null;
  products: Map<string, LiveProduct>;
  lines: LiveLine[];
}

/**
 * The customer's active cart, if any, and its products as they are now: two queries. The cart is normally
 * created beforehand by ensureActiveCart; creating it here too covers a cart closed in between.
 * `alsoProducts` (the product being added) are read with the cart's own, in the same query.
 */
export async function loadCart(trx: Trx, customerId: string, newCartId: string, now: Date, alsoProducts: readonly string[] = []): Promise<LoadedCart> {
  const { id, lines, checkout } = await findOrCreateActiveCartWithContents(trx, customerId, newCartId, now);
  const products = await productFacts(trx, [...new Set([...lines.map((l) => l.product_id), ...alsoProducts])]);
  return {
    cart: { id, lines, checkout },
    checkout,
    products,
    lines: lines.map((l) => ({ item_id: l.id, product: products.get(l.product_id)!, quantity: l.quantity })),
  };
}

export async function getCart(ctx: AppContext, customerId: string): Promise<Cart> {
  const now = ctx.now();
  const newCartId = randomUUID();
  await ensureActiveCart(ctx.db, customerId, newCartId, now);
  const loaded = await inSerializableTx(ctx.db, (trx) => loadCart(trx, customerId, newCartId, now));
  return cartView(loaded.cart, loaded.products, ctx.config.CURRENCY, now);
}

/** Writes what an accepted edit says; an edit after an expired confirmation reopens the checkout. */
async function applyCartEdit(trx: Trx, loaded: LoadedCart, decision: Result<CartEdit>, now: Date): Promise<CartEdit> {
  const edit = unwrap(decision);
  if (edit.kind === 'created') await insertCartItem(trx, loaded.cart.id, edit.item, now);
  else if (edit.kind === 'removed') await deleteCartItem(trx, edit.item.id);
  else await setCartItemQuantity(trx, edit.item.id, edit.item.quantity, now);
  if (edit.reopenCheckout && loaded.checkout) await saveCheckout(trx, unwrap(reopen(loaded.checkout, now)), now);
  return edit;
}

export async function addCartItem(ctx: AppContext, customerId: string, input: { product_id: string; quantity: number }): Promise<{ created: boolean; item: CartItem }> {
  const now = ctx.now();
  const newCartId = randomUUID();
  const newItemId = randomUUID();
  await ensureActiveCart(ctx.db, customerId, newCartId, now);
  return inSerializableTx(ctx.db, async (trx) => {
    const loaded = await loadCart(trx, customerId, newCartId, now, [input.product_id]);
    const product = loaded.products.get(input.product_id) ?? null;
    const edit = await applyCartEdit(trx, loaded, decideAddItem(loaded.cart, product, input.quantity, newItemId, now), now);
    return { created: edit.kind === 'created', item: cartItemView(edit.item, product!) };
  });
}

/** The caller's active cart holding the item, or 404: another customer's item (or one of a closed cart) is not theirs to see. */
async function loadCartOfItem(trx: Trx, customerId: string, itemId: string, newCartId: string, now: Date): Promise<LoadedCart> {
  const owner = await findCartOfItem(trx, itemId);
  if (!owner || owner.customer_id !== customerId || owner.status !== 'active') throw failure({ type: 'not_found', detail: 'No such cart item' });
  return loadCart(trx, customerId, newCartId, now);
}

export async function changeCartItem(ctx: AppContext, customerId: string, itemId: string, quantity: number): Promise<CartItem> {
  const now = ctx.now();
  const newCartId = randomUUID();
  return inSerializableTx(ctx.db, async (trx) => {
    const loaded = await loadCartOfItem(trx, customerId, itemId, newCartId, now);
    const line = loaded.cart.lines.find((l) => l.id === itemId);
    const product = line ? (loaded.products.get(line.product_id) ?? null) : null;
    const edit = await applyCartEdit(trx, loaded, decideChangeQuantity(loaded.cart, itemId, product, quantity, now), now);
    return cartItemView(edit.item, product!);
  });
}

export async function removeCartItem(ctx: AppContext, customerId: string, itemId: string): Promise<void> {
  const now = ctx.now();
  const newCartId = randomUUID();
  await inSerializableTx(ctx.db, async (trx) => {
    const loaded = await loadCartOfItem(trx, customerId, itemId, newCartId, now);
    await applyCartEdit(trx, loaded, decideRemoveItem(loaded.cart, itemId, now), now);
  });
}

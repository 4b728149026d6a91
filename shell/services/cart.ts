import { randomUUID } from 'node:crypto';
import { cartView, decideAddItem, decideChangeQuantity, decideRemoveItem, type CartEdit, type CartState } from '../../core/cart.js';
import { reopen, type CheckoutState, type LiveLine, type LiveProduct } from '../../core/checkout.js';
import type { Result } from '../../core/errors.js';
import type { Trx } from '../../db/database.js';
import type { AppContext } from '../context.js';
import { failure, unwrap } from '../../core/errors.js';
import { deleteCartItem, findActiveCartWithProducts, insertCartItem, setCartItemQuantity } from '../repos/carts.js';
import { ensureCartWithCheckout, saveCheckout } from '../repos/checkouts.js';
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
 * The customer's active cart, its checkout and its products as they are now, in one query; `alsoProducts`
 * (the product being added) come with it. Null when the customer has no active cart.
 */
export async function loadCart(trx: Trx, customerId: string, alsoProducts: readonly string[] = []): Promise<LoadedCart | null> {
  const { cart, products } = await findActiveCartWithProducts(trx, customerId, alsoProducts);
  if (!cart) return null;
  const { id, lines, checkout } = cart;
  return {
    cart: { id, lines, checkout },
    checkout,
    products,
    lines: lines.map((l) => ({ item_id: l.id, product: products.get(l.product_id)!, quantity: l.quantity })),
  };
}

/** Thrown out of a flow's transaction that found no active cart (or no checkout) to work on: see untilMade. */
class Missing extends Error {}

export function missing(): never {
  throw new Missing('the active cart or its checkout is not made yet');
}

/**
 * Runs `attempt` (a flow's whole transaction). Most requests find the customer's active cart and its
 * checkout; one that finds them missing (a new customer, or an order just closed the cart) leaves its
 * transaction, makes both in one statement outside any transaction, and runs again. Making them inside
 * would insert into index pages that every concurrent flow's read has predicate-locked, and fail some of
 * them with serialization conflicts; making the checkout with the cart spares the checkout flows that
 * follow the first add a second such round.
 */
export async function untilMade<T>(ctx: AppContext, customerId: string, now: Date, attempt: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof Missing)) throw error;
      // Made, then closed again before each attempt read it: only an order racing every attempt does that.
      if (round >= 5) throw failure({ type: 'busy', detail: 'The request could not be completed under contention; retry shortly', retryAfterSeconds: 1 });
    }
    await ensureCartWithCheckout(ctx.db, customerId, { cartId: randomUUID(), checkoutId: randomUUID() }, now);
  }
}

export async function getCart(ctx: AppContext, customerId: string): Promise<Cart> {
  const now = ctx.now();
  const loaded = await untilMade(ctx, customerId, now, () => inSerializableTx(ctx.db, async (trx) => (await loadCart(trx, customerId)) ?? missing()));
  return cartView(loaded.cart, loaded.products, ctx.config.CURRENCY, now);
}

/** Writes what an accepted edit says; an edit after an expired confirmation reopens the checkout. */
async function applyCartEdit(trx: Trx, loaded: LoadedCart, decision: Result<CartEdit>, now: Date): Promise<CartEdit> {
  const edit = unwrap(decision);
  if (edit.kind === 'created') await insertCartItem(trx, loaded.cart.id, edit.item, now);
  else if (edit.kind === 'removed') await deleteCartItem(trx, loaded.cart.id, edit.item);
  else await setCartItemQuantity(trx, loaded.cart.id, edit.item, now);
  if (edit.reopenCheckout && loaded.checkout) await saveCheckout(trx, unwrap(reopen(loaded.checkout, now)), now);
  return edit;
}

export async function addCartItem(ctx: AppContext, customerId: string, input: { product_id: string; quantity: number }): Promise<{ created: boolean; item: CartItem }> {
  const now = ctx.now();
  const newItemId = randomUUID();
  return untilMade(ctx, customerId, now, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const loaded = (await loadCart(trx, customerId, [input.product_id])) ?? missing();
      const product = loaded.products.get(input.product_id) ?? null;
      const edit = await applyCartEdit(trx, loaded, decideAddItem(loaded.cart, product, input.quantity, newItemId, now), now);
      return { created: edit.kind === 'created', item: cartItemView(edit.item, product!) };
    }),
  );
}

/**
 * The caller's active cart, which must hold the item, or 404: another customer's item (or one of a closed
 * cart) is not in it, and is not theirs to see. With no active cart there is nothing to make: the item is not found.
 */
async function loadCartOfItem(trx: Trx, customerId: string, itemId: string): Promise<LoadedCart> {
  const loaded = await loadCart(trx, customerId);
  if (!loaded?.cart.lines.some((l) => l.id === itemId)) throw failure({ type: 'not_found', detail: 'No such cart item' });
  return loaded;
}

export async function changeCartItem(ctx: AppContext, customerId: string, itemId: string, quantity: number): Promise<CartItem> {
  const now = ctx.now();
  return inSerializableTx(ctx.db, async (trx) => {
    const loaded = await loadCartOfItem(trx, customerId, itemId);
    const line = loaded.cart.lines.find((l) => l.id === itemId);
    const product = line ? (loaded.products.get(line.product_id) ?? null) : null;
    const edit = await applyCartEdit(trx, loaded, decideChangeQuantity(loaded.cart, itemId, product, quantity, now), now);
    return cartItemView(edit.item, product!);
  });
}

export async function removeCartItem(ctx: AppContext, customerId: string, itemId: string): Promise<void> {
  const now = ctx.now();
  await inSerializableTx(ctx.db, async (trx) => {
    const loaded = await loadCartOfItem(trx, customerId, itemId);
    await applyCartEdit(trx, loaded, decideRemoveItem(loaded.cart, itemId, now), now);
  });
}

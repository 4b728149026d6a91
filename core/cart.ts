import type { CheckoutState, FrozenItem, LiveProduct } from './checkout.js';
import { effectiveStatus, freezesCart, insufficientStock } from './checkout.js';
import { fail, ok, type Result } from './errors.js';
import { lineTotal, sumMoney } from './money.js';
import { MAX_LINE_QUANTITY } from './stock.js';

/**
 * The customer's one active cart. Edits are refused while its checkout is confirmed (the cart is frozen);
 * an edit after the confirmation expired is allowed and reopens the checkout. Once an order is made from
 * its checkout the cart is closed for good, and the next GET /cart/ makes a new one.
 */

/** What the database holds. Frozen is not stored: it is derived from the checkout (freezesCart). */
export const CART_STATUSES = ['active', 'closed'] as const;
export type CartStatus = (typeof CART_STATUSES)[number];

/** The cart machine: an active cart closes when an order is made from its checkout; nothing leaves closed. */
const transitions: Record<CartStatus, readonly CartStatus[]> = {
  active: ['closed'],
  closed: [],
};

export function canTransitionCart(from: CartStatus, to: CartStatus): boolean {
  return transitions[from].includes(to);
}

/**
 * POST /orders/create/: the order is made and the checkout completed (see `complete`), so the cart
 * closes. A closed cart has already become an order: refused like a second order from its checkout.
 */
export function decideCloseCart(cart: { status: CartStatus }, checkout: Pick<CheckoutState, 'status'>): Result<CartStatus> {
  if (!canTransitionCart(cart.status, 'closed')) return fail({ type: 'checkout_not_confirmed', detail: 'An order was already made from this cart' });
  if (checkout.status !== 'completed') return fail({ type: 'checkout_not_confirmed', detail: `The checkout is ${checkout.status}; only an order closes the cart` });
  return ok('closed');
}

/**
 * The most distinct products one cart holds. Besides keeping a cart reviewable, it bounds every total:
 * MAX_CART_LINES × MAX_LINE_QUANTITY × MAX_UNIT_PRICE is below 10^14, so a subtotal is always a safe integer.
 */
export const MAX_CART_LINES = 100;

export interface CartLine {
  id: string;
  product_id: string;
  quantity: number;
}

export interface CartState {
  id: string;
  lines: CartLine[];
  checkout: Pick<CheckoutState, 'status' | 'expires_at' | 'frozen_items'> | null;
}

export type CartEdit =
  | { kind: 'created'; item: CartLine; reopenCheckout: boolean }
  | { kind: 'merged'; item: CartLine; reopenCheckout: boolean }
  | { kind: 'changed'; item: CartLine; reopenCheckout: boolean }
  | { kind: 'removed'; item: CartLine; reopenCheckout: boolean };

function editable(cart: CartState, now: Date): Result<{ reopenCheckout: boolean }> {
  const status = cart.checkout ? effectiveStatus(cart.checkout, now) : 'open';
  if (status === 'confirmed') return fail({ type: 'cart_frozen', detail: 'The checkout is confirmed; cancel it to edit the cart' });
  return ok({ reopenCheckout: status === 'expired' });
}

function quantityProblem(quantity: number) {
  return fail({
    type: 'validation_failed' as const,
    detail: `The quantity of a line must be between 1 and ${MAX_LINE_QUANTITY}`,
    errors: [{ path: 'quantity', message: `The line's quantity would be ${quantity}; it must be between 1 and ${MAX_LINE_QUANTITY}` }],
  });
}

function checkProduct(product: LiveProduct | null, quantity: number): Result<LiveProduct> {
  if (product === null) return fail({ type: 'not_found', detail: 'No such product' });
  if (!product.available) return fail({ type: 'product_unavailable', product_id: product.id, detail: 'This product is not available' });
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_LINE_QUANTITY) return quantityProblem(quantity);
  if (quantity > product.stock) {
    return fail(insufficientStock([{ product_id: product.id, requested: quantity, available: product.stock }], () => product.name));
  }
  return ok(product);
}

/** POST /cart-items/: a new line, or the existing line of that product with the quantities added. */
export function decideAddItem(cart: CartState, product: LiveProduct | null, quantity: number, newItemId: string, now: Date): Result<CartEdit> {
  const gate = editable(cart, now);
  if (!gate.ok) return gate;
  const existing = product ? cart.lines.find((l) => l.product_id === product.id) : undefined;
  const wanted = (existing?.quantity ?? 0) + quantity;
  const checked = checkProduct(product, wanted);
  if (!checked.ok) return checked;
  const { reopenCheckout } = gate.value;
  if (existing) return ok({ kind: 'merged', item: { ...existing, quantity: wanted }, reopenCheckout });
  if (cart.lines.length >= MAX_CART_LINES) {
    return fail({
      type: 'validation_failed',
      detail: `A cart holds at most ${MAX_CART_LINES} different products`,
      errors: [{ path: 'product_id', message: `The cart already holds ${cart.lines.length} different products; remove one to add another` }],
    });
  }
  return ok({ kind: 'created', item: { id: newItemId, product_id: checked.value.id, quantity }, reopenCheckout });
}

/** PATCH /cart-items/{id}/: the line's new quantity, re-checked against availability and stock. */
export function decideChangeQuantity(cart: CartState, itemId: string, product: LiveProduct | null, quantity: number, now: Date): Result<CartEdit> {
  const line = cart.lines.find((l) => l.id === itemId);
  if (!line) return fail({ type: 'not_found', detail: 'No such cart item' });
  const gate = editable(cart, now);
  if (!gate.ok) return gate;
  const checked = checkProduct(product, quantity);
  if (!checked.ok) return checked;
  return ok({ kind: 'changed', item: { ...line, quantity }, reopenCheckout: gate.value.reopenCheckout });
}

/** DELETE /cart-items/{id}/: always allowed unless frozen, even for a product that is gone. */
export function decideRemoveItem(cart: CartState, itemId: string, now: Date): Result<CartEdit> {
  const line = cart.lines.find((l) => l.id === itemId);
  if (!line) return fail({ type: 'not_found', detail: 'No such cart item' });
  const gate = editable(cart, now);
  if (!gate.ok) return gate;
  return ok({ kind: 'removed', item: line, reopenCheckout: gate.value.reopenCheckout });
}

export interface CartItemView {
  id: string;
  product_id: string;
  name: string;
  unit_price: number;
  quantity: number;
  line_total: number;
}

/** What GET /cart/ shows of the active cart: frozen while its checkout is confirmed and unexpired. */
export type CartViewStatus = 'active' | 'frozen';

export interface CartView {
  id: string;
  status: CartViewStatus;
  items: CartItemView[];
  item_count: number;
  subtotal: number;
  currency: string;
}

/** The cart as GET /cart/ shows it: live names and prices, or the frozen ones while the checkout is confirmed. */
export function cartView(cart: CartState, products: ReadonlyMap<string, Pick<LiveProduct, 'name' | 'unit_price'>>, currency: string, now: Date): CartView {
  const frozen = freezesCart(cart.checkout, now);
  const frozenById = new Map<string, FrozenItem>((frozen ? (cart.checkout?.frozen_items ?? []) : []).map((f) => [f.product_id, f]));
  const items = cart.lines.map((l) => {
    const source = frozenById.get(l.product_id) ?? products.get(l.product_id) ?? { name: '', unit_price: 0 };
    return { id: l.id, product_id: l.product_id, name: source.name, unit_price: source.unit_price, quantity: l.quantity, line_total: lineTotal(source.unit_price, l.quantity) };
  });
  return {
    id: cart.id,
    status: frozen ? 'frozen' : 'active',
    items,
    item_count: items.reduce((n, i) => n + i.quantity, 0),
    subtotal: sumMoney(items.map((i) => i.line_total)),
    currency,
  };
}

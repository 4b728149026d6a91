import { fail, ok, type DomainError, type Result, type StockShortfall } from './errors.js';
import { lineTotal, sumMoney } from './money.js';
import { shortfalls } from './stock.js';

/**
 * The checkout of a cart: open → confirmed (items and prices frozen until expires_at) → completed by an
 * order; cancel or an edit after expiry reopens it. "expired" is derived from time, never stored: a
 * confirmed checkout whose expires_at has passed is expired at once, with no job to mark it.
 */

/** What the database holds. */
export const STORED_CHECKOUT_STATUSES = ['open', 'confirmed', 'completed'] as const;
export type StoredCheckoutStatus = (typeof STORED_CHECKOUT_STATUSES)[number];

/** What a client sees: a stored status, or `expired` for a confirmed checkout past expires_at. */
export const CHECKOUT_STATUSES = [...STORED_CHECKOUT_STATUSES, 'expired'] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

/**
 * The checkout machine: from the status a client sees now to the status stored next. `expired` is
 * reached by time alone, so it is never a target; a confirmed checkout re-confirmed while unexpired is
 * returned unchanged, which is no transition.
 */
const transitions: Record<CheckoutStatus, readonly StoredCheckoutStatus[]> = {
  // confirm
  open: ['confirmed'],
  // cancel, or an order refused for stock or availability; an order made from it
  confirmed: ['open', 'completed'],
  // cancel, update or a cart edit; confirm anew after re-checking everything
  expired: ['open', 'confirmed'],
  completed: [],
};

/** Is `from → to` one of the contract's transitions? `from` is the status at `now` (see effectiveStatus). */
export function canTransitionCheckout(from: CheckoutStatus, to: StoredCheckoutStatus): boolean {
  return transitions[from].includes(to);
}

/** The refusal of `from → to`, named after what the target needs. */
function refusal(from: CheckoutStatus, to: StoredCheckoutStatus): DomainError {
  switch (to) {
    case 'completed':
      return from === 'expired'
        ? { type: 'checkout_expired', detail: 'The confirmed checkout expired; confirm it again' }
        : { type: 'checkout_not_confirmed', detail: `The checkout is ${from}; confirm it before creating an order` };
    case 'open':
      return from === 'completed'
        ? { type: 'checkout_not_open', detail: 'The checkout is completed' }
        : { type: 'checkout_not_confirmed', detail: `The checkout is ${from}; only a confirmed checkout is reopened` };
    case 'confirmed':
      return { type: 'checkout_not_open', detail: `The checkout is ${from}` };
  }
}

/** The status at `now` if `to` may follow it, else the contract's refusal. */
function transition(checkout: Pick<CheckoutState, 'status' | 'expires_at'>, to: StoredCheckoutStatus, now: Date): Result<CheckoutStatus> {
  const from = effectiveStatus(checkout, now);
  return canTransitionCheckout(from, to) ? ok(from) : fail(refusal(from, to));
}

export interface ShippingAddress {
  line1: string;
  line2?: string | undefined;
  city: string;
  region?: string | undefined;
  postal_code: string;
  country: string;
}

/** A line frozen at confirmation: what the order will be made of. */
export interface FrozenItem {
  product_id: string;
  vendor_id: string;
  name: string;
  unit_price: number;
  quantity: number;
  line_total: number;
}

export interface CheckoutState {
  id: string;
  cart_id: string;
  status: StoredCheckoutStatus;
  shipping_address: ShippingAddress | null;
  contact_phone: string | null;
  frozen_items: FrozenItem[] | null;
  subtotal: number | null;
  total: number | null;
  confirmed_at: Date | null;
  expires_at: Date | null;
}

/** A product as the catalog has it now: what a cart line, a confirmation and an order are checked against. */
export interface LiveProduct {
  id: string;
  vendor_id: string;
  name: string;
  unit_price: number;
  stock: number;
  /** active, not deleted, and its vendor active */
  available: boolean;
}

/** A cart line with its product as it is now. */
export interface LiveLine {
  item_id: string;
  product: LiveProduct;
  quantity: number;
}

export interface CheckoutProblem {
  code: 'cart_empty' | 'checkout_incomplete' | 'product_unavailable' | 'insufficient_stock';
  product_id: string | null;
  detail: string;
}

/** The status a client sees at `now`: a confirmed checkout past expires_at is expired. */
export function effectiveStatus(checkout: Pick<CheckoutState, 'status' | 'expires_at'>, now: Date): CheckoutStatus {
  if (checkout.status === 'confirmed' && checkout.expires_at !== null && checkout.expires_at.getTime() <= now.getTime()) return 'expired';
  return checkout.status;
}

/** Is the cart behind this checkout frozen at `now`? Only while confirmed and unexpired. */
export const freezesCart = (checkout: Pick<CheckoutState, 'status' | 'expires_at'> | null, now: Date): boolean =>
  checkout !== null && effectiveStatus(checkout, now) === 'confirmed';

/**
 * Back to open from confirmed or expired (cancel, update or cart edit after expiry, an order refused for
 * stock or availability): nothing frozen any more, the cart editable again.
 */
export function reopen(checkout: CheckoutState, now: Date): Result<CheckoutState> {
  const allowed = transition(checkout, 'open', now);
  if (!allowed.ok) return allowed;
  return ok({ ...checkout, status: 'open', frozen_items: null, subtotal: null, total: null, confirmed_at: null, expires_at: null });
}

/** Everything that would block confirmation now, in the order a client should fix it. */
export function liveProblems(lines: readonly LiveLine[], checkout: Pick<CheckoutState, 'shipping_address'>): CheckoutProblem[] {
  const problems: CheckoutProblem[] = [];
  if (lines.length === 0) problems.push({ code: 'cart_empty', product_id: null, detail: 'The cart is empty' });
  if (checkout.shipping_address === null) problems.push({ code: 'checkout_incomplete', product_id: null, detail: 'A shipping address is required' });
  for (const line of lines) {
    if (!line.product.available) {
      problems.push({ code: 'product_unavailable', product_id: line.product.id, detail: `${line.product.name} is no longer available` });
    } else if (line.quantity > line.product.stock) {
      problems.push({
        code: 'insufficient_stock',
        product_id: line.product.id,
        detail: `${line.product.name}: requested ${line.quantity}, available ${line.product.stock}`,
      });
    }
  }
  return problems;
}

/** The lines as they would be frozen now, at current names and prices. */
export function freezeLines(lines: readonly LiveLine[]): FrozenItem[] {
  return lines.map((l) => ({
    product_id: l.product.id,
    vendor_id: l.product.vendor_id,
    name: l.product.name,
    unit_price: l.product.unit_price,
    quantity: l.quantity,
    line_total: lineTotal(l.product.unit_price, l.quantity),
  }));
}

export interface CheckoutPatch {
  shipping_address?: ShippingAddress | undefined;
  contact_phone?: string | undefined;
}

/** PATCH /checkout/update/: allowed while open or expired (which reopens it). */
export function decideUpdate(checkout: CheckoutState, patch: CheckoutPatch, now: Date): Result<CheckoutState> {
  const status = effectiveStatus(checkout, now);
  if (status !== 'open' && status !== 'expired') {
    return fail({ type: 'checkout_not_open', detail: `The checkout is ${status}; cancel it to change it` });
  }
  const reopened = status === 'expired' ? reopen(checkout, now) : ok(checkout);
  if (!reopened.ok) return reopened;
  const base = reopened.value;
  return ok({
    ...base,
    ...(patch.shipping_address !== undefined ? { shipping_address: patch.shipping_address } : {}),
    ...(patch.contact_phone !== undefined ? { contact_phone: patch.contact_phone } : {}),
  });
}

export interface ConfirmDecision {
  checkout: CheckoutState;
  /** false when the checkout was already confirmed and is returned unchanged */
  changed: boolean;
}

/**
 * POST /checkout/confirm/: re-checks everything against the live cart and freezes it for `ttlSeconds`.
 * A confirmed, unexpired checkout is returned unchanged; an expired one is confirmed anew.
 */
export function decideConfirm(checkout: CheckoutState, lines: readonly LiveLine[], now: Date, ttlSeconds: number): Result<ConfirmDecision> {
  if (effectiveStatus(checkout, now) === 'confirmed') return ok({ checkout, changed: false });
  const allowed = transition(checkout, 'confirmed', now);
  if (!allowed.ok) return allowed;
  const problem = confirmationRefusal(lines, checkout);
  if (problem) return fail(problem);
  const frozen = freezeLines(lines);
  const subtotal = sumMoney(frozen.map((f) => f.line_total));
  return ok({
    checkout: {
      ...checkout,
      status: 'confirmed',
      frozen_items: frozen,
      subtotal,
      total: subtotal,
      confirmed_at: now,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000),
    },
    changed: true,
  });
}

function confirmationRefusal(lines: readonly LiveLine[], checkout: CheckoutState): DomainError | null {
  if (lines.length === 0) return { type: 'cart_empty', detail: 'The cart is empty' };
  if (checkout.shipping_address === null) return { type: 'checkout_incomplete', detail: 'A shipping address is required before confirming' };
  const unavailable = lines.find((l) => !l.product.available);
  if (unavailable) {
    return { type: 'product_unavailable', product_id: unavailable.product.id, detail: `${unavailable.product.name} is no longer available` };
  }
  const short = shortfalls(
    lines.map((l) => ({ product_id: l.product.id, quantity: l.quantity })),
    new Map(lines.map((l) => [l.product.id, l.product.stock])),
  );
  if (short.length > 0) return insufficientStock(short, (id) => lines.find((l) => l.product.id === id)?.product.name ?? id);
  return null;
}

export function insufficientStock(items: StockShortfall[], nameOf: (productId: string) => string): DomainError {
  const detail = items.map((s) => `${nameOf(s.product_id)}: requested ${s.requested}, available ${s.available}`).join('; ');
  return { type: 'insufficient_stock', detail: `Not enough stock for ${detail}`, items };
}

/** POST /checkout/cancel/: back to open from confirmed or expired; an open checkout stays as it is. */
export function decideCancel(checkout: CheckoutState, now: Date): Result<CheckoutState> {
  return effectiveStatus(checkout, now) === 'open' ? ok(checkout) : reopen(checkout, now);
}

/**
 * An order is made from it: only from a confirmed, unexpired checkout (checkout_expired past expires_at,
 * checkout_not_confirmed otherwise). decideOrderCreation asks the same question first.
 */
export function complete(checkout: CheckoutState, now: Date): Result<CheckoutState> {
  const allowed = transition(checkout, 'completed', now);
  if (!allowed.ok) return allowed;
  return ok({ ...checkout, status: 'completed' });
}

export interface CheckoutItemView {
  product_id: string;
  name: string;
  unit_price: number;
  quantity: number;
  line_total: number;
}

export interface CheckoutView {
  id: string;
  cart_id: string;
  status: CheckoutStatus;
  items: CheckoutItemView[];
  subtotal: number;
  total: number;
  currency: string;
  shipping_address: ShippingAddress | null;
  contact_phone: string | null;
  problems: CheckoutProblem[];
  confirmed_at: Date | null;
  expires_at: Date | null;
}

/**
 * The checkout as GET /checkout/ shows it: frozen items while confirmed (or completed); the live cart and
 * everything that would block confirmation while open or expired (an expired checkout confirms anew).
 */
export function checkoutView(checkout: CheckoutState, lines: readonly LiveLine[], currency: string, now: Date): CheckoutView {
  const status = effectiveStatus(checkout, now);
  const frozen = (status === 'confirmed' || status === 'completed') && checkout.frozen_items !== null;
  const items = frozen
    ? checkout.frozen_items!.map(({ product_id, name, unit_price, quantity, line_total }) => ({ product_id, name, unit_price, quantity, line_total }))
    : freezeLines(lines).map(({ product_id, name, unit_price, quantity, line_total }) => ({ product_id, name, unit_price, quantity, line_total }));
  const subtotal = sumMoney(items.map((i) => i.line_total));
  return {
    id: checkout.id,
    cart_id: checkout.cart_id,
    status,
    items,
    subtotal,
    total: subtotal,
    currency,
    shipping_address: checkout.shipping_address,
    contact_phone: checkout.contact_phone,
    problems: frozen ? [] : liveProblems(lines, checkout),
    confirmed_at: checkout.confirmed_at,
    expires_at: checkout.expires_at,
  };
}

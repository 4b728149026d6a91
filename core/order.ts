import type { CheckoutState, FrozenItem, LiveProduct, ShippingAddress } from './checkout.js';
import { complete, insufficientStock } from './checkout.js';
import { fail, ok, type DomainError, type Result } from './errors.js';
import { lineTotal, sumMoney } from './money.js';
import { shortfalls } from './stock.js';

/**
 * Orders: made once from a confirmed, unexpired checkout with the frozen names and prices, then
 * pending_payment → paid | cancelled | expired, paid → refunded, and nothing else. Payment
 * (core/payment.ts) owns → paid and refunds (core/refund.ts) own → refunded; both ask `canTransitionOrder` here.
 */

const orderStatuses = ['pending_payment', 'paid', 'refunded', 'cancelled', 'expired'] as const;
export type OrderStatus = (typeof orderStatuses)[number];
export const ORDER_STATUSES: readonly OrderStatus[] = orderStatuses;

const transitions: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_payment: ['paid', 'cancelled', 'expired'],
  paid: ['refunded'],
  refunded: [],
  cancelled: [],
  expired: [],
};

/** The order state machine: is `from → to` one of the contract's transitions? */
export function canTransitionOrder(from: OrderStatus, to: OrderStatus): boolean {
  return transitions[from].includes(to);
}

/** An order's line: a frozen checkout line with its own id. */
export interface OrderLine extends FrozenItem {
  id: string;
}

export interface OrderState {
  id: string;
  customer_id: string;
  checkout_id: string;
  status: OrderStatus;
  subtotal: number;
  total: number;
  currency: string;
  shipping_address: ShippingAddress;
  contact_phone: string | null;
  payment_due_by: Date;
  paid_at: Date | null;
  cancelled_at: Date | null;
  expired_at: Date | null;
  refunded_at: Date | null;
  created_at: Date;
  items: OrderLine[];
}

export interface OrderCreation {
  checkout: CheckoutState;
  customerId: string;
  /** Current facts of the products in the frozen items. */
  products: ReadonlyMap<string, LiveProduct>;
  now: Date;
  orderId: string;
  /** Ids for the lines, used in order; at least as many as frozen items. */
  lineIds: readonly string[];
  currency: string;
  paymentDueSeconds: number;
}

/**
 * Whether a refused creation puts the checkout back to open: the cart must change before it can become
 * an order (and the refusal is committed, not rolled back).
 */
export const refusalReopensCheckout = (error: DomainError): boolean => error.type === 'insufficient_stock' || error.type === 'product_unavailable';

/**
 * POST /orders/create/: the order from a confirmed, unexpired checkout, with the frozen lines and prices
 * and totals by integer arithmetic. The stock shown here is re-checked by the shell's conditional
 * decrement, which has the last word.
 */
export function decideOrderCreation(input: OrderCreation): Result<OrderState> {
  const { checkout, now } = input;
  const completion = complete(checkout, now);
  if (!completion.ok) return completion;
  if (checkout.frozen_items === null || checkout.shipping_address === null) {
    return fail({ type: 'checkout_not_confirmed', detail: 'Confirm the checkout before creating an order' });
  }
  const frozen = checkout.frozen_items;
  const unavailable = frozen.find((f) => !input.products.get(f.product_id)?.available);
  if (unavailable) {
    return fail({ type: 'product_unavailable', product_id: unavailable.product_id, detail: `${unavailable.name} is no longer available` });
  }
  const short = shortfalls(frozen, new Map(frozen.map((f) => [f.product_id, input.products.get(f.product_id)?.stock ?? 0])));
  if (short.length > 0) {
    return fail(insufficientStock(short, (id) => frozen.find((f) => f.product_id === id)?.name ?? id));
  }
  if (input.lineIds.length < frozen.length) throw new Error('decideOrderCreation: not enough line ids');
  const items = frozen.map((f, i) => ({
    id: input.lineIds[i]!,
    product_id: f.product_id,
    vendor_id: f.vendor_id,
    name: f.name,
    unit_price: f.unit_price,
    quantity: f.quantity,
    line_total: lineTotal(f.unit_price, f.quantity),
  }));
  const subtotal = sumMoney(items.map((i) => i.line_total));
  if (checkout.total !== null && checkout.total !== subtotal) throw new Error('decideOrderCreation: frozen total differs from the sum of its lines');
  return ok({
    id: input.orderId,
    customer_id: input.customerId,
    checkout_id: checkout.id,
    status: 'pending_payment',
    subtotal,
    total: subtotal,
    currency: input.currency,
    shipping_address: checkout.shipping_address,
    contact_phone: checkout.contact_phone,
    payment_due_by: new Date(now.getTime() + input.paymentDueSeconds * 1000),
    paid_at: null,
    cancelled_at: null,
    expired_at: null,
    refunded_at: null,
    created_at: now,
    items,
  });
}

function transition(order: OrderState, to: OrderStatus, refusal: () => Result<never>): Result<OrderStatus> {
  return canTransitionOrder(order.status, to) ? ok(to) : refusal();
}

/** POST /orders/{id}/cancel/: only while pending_payment; the shell returns the stock in the same transaction. */
export function decideCancelOrder(order: OrderState, now: Date): Result<OrderState> {
  const allowed = transition(order, 'cancelled', () => fail({ type: 'order_not_cancellable', detail: `The order is ${order.status}; only an order pending payment can be cancelled` }));
  if (!allowed.ok) return allowed;
  return ok({ ...order, status: 'cancelled', cancelled_at: now });
}

/**
 * The expiry job: an unpaid order whose payment_due_by has passed becomes expired, its stock returned.
 * An order no longer pending payment is refused with order_not_payable, one not yet due with order_not_due.
 */
export function decideExpireOrder(order: OrderState, now: Date): Result<OrderState> {
  const allowed = transition(order, 'expired', () => fail({ type: 'order_not_payable', detail: `The order is ${order.status}` }));
  if (!allowed.ok) return allowed;
  if (order.payment_due_by.getTime() > now.getTime()) return fail({ type: 'order_not_due', detail: 'The order is not yet past payment_due_by' });
  return ok({ ...order, status: 'expired', expired_at: now });
}

/** What a vendor sees of an order: only its own lines, and their sum as subtotal and total. */
export function vendorShare(order: OrderState, vendorIds: readonly string[]): OrderState {
  const items = order.items.filter((i) => vendorIds.includes(i.vendor_id));
  const subtotal = sumMoney(items.map((i) => i.line_total));
  return { ...order, items, subtotal, total: subtotal };
}

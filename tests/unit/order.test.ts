import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideConfirm, type CheckoutState, type LiveProduct } from '../../core/checkout.js';
import { canTransitionOrder, decideCancelOrder, decideExpireOrder, decideOrderCreation, ORDER_STATUSES, refusalReopensCheckout, vendorShare, type OrderState, type OrderStatus } from '../../core/order.js';
import { openCheckout } from './fixtures.js';

const now = new Date('2026-11-25T12:00:00Z');
const address = { line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' };
const TTL = 900;
const DUE = 1800;
const product = (id: string, fields: Partial<LiveProduct> = {}): LiveProduct => ({ id, vendor_id: `v-${id}`, name: `P ${id}`, unit_price: 250, stock: 10, available: true, ...fields });

function confirmedCheckout(lines: { product: LiveProduct; quantity: number }[], at = now): CheckoutState {
  const decision = decideConfirm({ ...openCheckout('co', 'cart'), shipping_address: address }, lines.map((l, i) => ({ item_id: `i${i}`, ...l })), at, TTL);
  if (!decision.ok) throw new Error(decision.error.type);
  return decision.value.checkout;
}

const creation = (checkout: CheckoutState, products: LiveProduct[], at = now) =>
  decideOrderCreation({
    checkout,
    customerId: 'cust',
    products: new Map(products.map((p) => [p.id, p])),
    now: at,
    orderId: 'order',
    lineIds: ['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9'],
    currency: 'USD',
    paymentDueSeconds: DUE,
  });

function pendingOrder(fields: Partial<OrderState> = {}): OrderState {
  const a = product('a');
  const decision = creation(confirmedCheckout([{ product: a, quantity: 2 }]), [a]);
  if (!decision.ok) throw new Error(decision.error.type);
  return { ...decision.value, ...fields };
}

describe('order decisions', () => {
  it('makes an order from a confirmed checkout with frozen names and prices, a due date, pending_payment', () => {
    const a = product('a');
    const checkout = confirmedCheckout([{ product: a, quantity: 2 }]);
    const changed = { ...a, name: 'Renamed', unit_price: 9999 };
    const decision = creation(checkout, [changed], new Date(now.getTime() + 1000));
    expect(decision).toMatchObject({
      ok: true,
      value: { status: 'pending_payment', subtotal: 500, total: 500, currency: 'USD', checkout_id: 'co', items: [{ id: 'l0', name: 'P a', unit_price: 250, quantity: 2, line_total: 500, vendor_id: 'v-a' }] },
    });
    if (decision.ok) expect(decision.value.payment_due_by.getTime() - decision.value.created_at.getTime()).toBe(DUE * 1000);
  });

  it('refuses checkout_not_confirmed, checkout_expired, product_unavailable and insufficient_stock', () => {
    const a = product('a');
    expect(creation({ ...openCheckout('co', 'cart'), shipping_address: address }, [a])).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    const checkout = confirmedCheckout([{ product: a, quantity: 2 }]);
    expect(creation({ ...checkout, status: 'completed' }, [a])).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    expect(creation(checkout, [a], checkout.expires_at!)).toMatchObject({ ok: false, error: { type: 'checkout_expired' } });
    expect(creation(checkout, [a], new Date(checkout.expires_at!.getTime() + 86_400_000))).toMatchObject({ ok: false, error: { type: 'checkout_expired' } });
    const gone = creation(checkout, [{ ...a, available: false }]);
    expect(gone).toMatchObject({ ok: false, error: { type: 'product_unavailable', product_id: 'a' } });
    const short = creation(checkout, [{ ...a, stock: 1 }]);
    expect(short).toMatchObject({ ok: false, error: { type: 'insufficient_stock', items: [{ product_id: 'a', requested: 2, available: 1 }] } });
    if (!gone.ok && !short.ok) {
      expect(refusalReopensCheckout(gone.error)).toBe(true);
      expect(refusalReopensCheckout(short.error)).toBe(true);
      expect(refusalReopensCheckout({ type: 'checkout_expired' })).toBe(false);
    }
  });

  it('cancels only a pending order, and expires only a pending order past payment_due_by (order_not_due before)', () => {
    const order = pendingOrder();
    expect(decideCancelOrder(order, now)).toMatchObject({ ok: true, value: { status: 'cancelled', cancelled_at: now } });
    for (const status of ['paid', 'refunded', 'cancelled', 'expired'] as const) {
      expect(decideCancelOrder({ ...order, status }, now)).toMatchObject({ ok: false, error: { type: 'order_not_cancellable' } });
      expect(decideExpireOrder({ ...order, status }, order.payment_due_by)).toMatchObject({ ok: false, error: { type: 'order_not_payable' } });
    }
    expect(decideExpireOrder(order, new Date(order.payment_due_by.getTime() - 1))).toMatchObject({ ok: false, error: { type: 'order_not_due' } });
    expect(decideExpireOrder(order, order.payment_due_by)).toMatchObject({ ok: true, value: { status: 'expired', expired_at: order.payment_due_by } });
  });

  it("gives a vendor only its own lines and their sum", () => {
    const a = product('a');
    const b = product('b', { unit_price: 40 });
    const decision = creation(confirmedCheckout([{ product: a, quantity: 1 }, { product: b, quantity: 3 }]), [a, b]);
    if (!decision.ok) throw new Error('expected an order');
    const share = vendorShare(decision.value, ['v-b']);
    expect(share.items.map((i) => i.product_id)).toEqual(['b']);
    expect(share).toMatchObject({ subtotal: 120, total: 120 });
  });

  describe('properties', () => {
    it('accepts no order transition outside pending_payment → paid | cancelled | expired and paid → refunded', () => {
      const allowed = new Set(['pending_payment>paid', 'pending_payment>cancelled', 'pending_payment>expired', 'paid>refunded']);
      expect([...ORDER_STATUSES].sort()).toEqual(['cancelled', 'expired', 'paid', 'pending_payment', 'refunded']);
      fc.assert(
        fc.property(fc.constantFrom(...ORDER_STATUSES), fc.constantFrom(...ORDER_STATUSES), fc.integer({ min: -60_000, max: 60_000 }), (from: OrderStatus, to: OrderStatus, offset) => {
          expect(canTransitionOrder(from, to)).toBe(allowed.has(`${from}>${to}`));
          const order = pendingOrder({ status: from });
          const at = new Date(order.payment_due_by.getTime() + offset);
          const cancelled = decideCancelOrder(order, at);
          const expired = decideExpireOrder(order, at);
          expect(cancelled.ok).toBe(from === 'pending_payment');
          expect(expired.ok).toBe(from === 'pending_payment' && offset >= 0);
          // Whatever a decision produces is one of the table's transitions from where the order was.
          for (const decision of [cancelled, expired]) if (decision.ok) expect(canTransitionOrder(from, decision.value.status)).toBe(true);
        }),
      );
    });

    it('order total == sum of line totals == frozen checkout total', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 3 }), quantity: fc.integer({ min: 1, max: 999 }), unit_price: fc.integer({ min: 1, max: 5_000_000 }) }), { selector: (l) => l.id, minLength: 1, maxLength: 10 }),
          (lines) => {
            const products = lines.map((l) => product(l.id, { unit_price: l.unit_price, stock: 999 }));
            const checkout = confirmedCheckout(lines.map((l, i) => ({ product: products[i]!, quantity: l.quantity })));
            // Prices may change after confirmation; the order keeps the frozen ones.
            const decision = creation(checkout, products.map((p) => ({ ...p, unit_price: p.unit_price + 1 })));
            expect(decision.ok).toBe(true);
            if (!decision.ok) return;
            const order = decision.value;
            const sum = order.items.reduce((s, i) => s + i.line_total, 0);
            expect(order.total).toBe(sum);
            expect(order.subtotal).toBe(sum);
            expect(order.total).toBe(checkout.total);
          },
        ),
      );
    });

    it('stock never goes negative over any sequence of order creations and cancellations', () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('order' as const), quantities: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 3, maxLength: 3 }) }),
        fc.record({ kind: fc.constant('cancel' as const), index: fc.nat() }),
        fc.record({ kind: fc.constant('expire' as const), index: fc.nat() }),
      );
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 3, maxLength: 3 }), fc.array(op, { maxLength: 60 }), (initial, ops) => {
          const ids = ['a', 'b', 'c'];
          const stock = new Map(ids.map((id, i) => [id, initial[i]!]));
          const orders: OrderState[] = [];
          ops.forEach((o, n) => {
            if (o.kind === 'order') {
              const lines = ids.map((id, i) => ({ id, quantity: o.quantities[i]! })).filter((l) => l.quantity > 0);
              if (lines.length === 0) return;
              const facts = ids.map((id) => product(id, { stock: stock.get(id)! }));
              const wanted = lines.map((l) => ({ product: product(l.id, { stock: 999 }), quantity: l.quantity }));
              const decision = creation(confirmedCheckout(wanted), facts);
              if (!decision.ok) return;
              // The shell's conditional decrement (UPDATE … WHERE stock >= quantity): each line must be taken in full.
              for (const item of decision.value.items) {
                const available = stock.get(item.product_id)!;
                expect(Number.isInteger(item.quantity) && item.quantity > 0).toBe(true);
                expect(item.quantity).toBeLessThanOrEqual(available);
                stock.set(item.product_id, available - item.quantity);
              }
              orders.push({ ...decision.value, id: `o${n}` });
            } else if (orders.length > 0) {
              const order = orders[o.index % orders.length]!;
              const decision = o.kind === 'cancel' ? decideCancelOrder(order, now) : decideExpireOrder(order, new Date(order.payment_due_by.getTime() + 1));
              if (!decision.ok) return;
              for (const item of order.items) stock.set(item.product_id, stock.get(item.product_id)! + item.quantity);
              orders[orders.indexOf(order)] = decision.value;
            }
            for (const [id, s] of stock) {
              expect(s).toBeGreaterThanOrEqual(0);
              const held = orders.filter((x) => x.status === 'pending_payment').flatMap((x) => x.items).filter((i) => i.product_id === id).reduce((t, i) => t + i.quantity, 0);
              expect(s + held).toBe(initial[ids.indexOf(id)]);
            }
          });
        }),
      );
    });
  });
});

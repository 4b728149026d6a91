import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CART_STATUSES,
  canTransitionCart,
  cartView,
  decideAddItem,
  decideChangeQuantity,
  decideCloseCart,
  decideRemoveItem,
  MAX_CART_LINES,
  type CartEdit,
  type CartState,
} from '../../core/cart.js';
import { STORED_CHECKOUT_STATUSES, type LiveProduct } from '../../core/checkout.js';

const now = new Date('2026-11-25T12:00:00Z');
const later = new Date('2026-11-25T12:10:00Z');
const past = new Date('2026-11-25T11:50:00Z');

const product = (id: string, fields: Partial<LiveProduct> = {}): LiveProduct => ({ id, vendor_id: 'v1', name: `P ${id}`, unit_price: 100, stock: 10, available: true, ...fields });
const emptyCart = (checkout: CartState['checkout'] = null): CartState => ({ id: 'cart', lines: [], checkout });
const confirmedUntil = (expires_at: Date): CartState['checkout'] => ({ status: 'confirmed', expires_at, frozen_items: [] });

/** What the shell writes for an accepted edit: the line inserted, updated or deleted, the checkout reopened when asked. */
function applyEdit(cart: CartState, edit: CartEdit): CartState {
  const others = cart.lines.filter((l) => l.id !== edit.item.id);
  const lines = edit.kind === 'removed' ? others : edit.kind === 'created' ? [...cart.lines, edit.item] : cart.lines.map((l) => (l.id === edit.item.id ? edit.item : l));
  const checkout = cart.checkout && edit.reopenCheckout ? { ...cart.checkout, status: 'open' as const, expires_at: null, frozen_items: null } : cart.checkout;
  return { ...cart, lines, checkout };
}

describe('cart decisions', () => {
  it('adds a new line, then merges the same product into it', () => {
    const p = product('a');
    const first = decideAddItem(emptyCart(), p, 2, 'item-1', now);
    expect(first).toEqual({ ok: true, value: { kind: 'created', item: { id: 'item-1', product_id: 'a', quantity: 2 }, reopenCheckout: false } });
    const cart = applyEdit(emptyCart(), first.ok ? first.value : (null as never));
    const second = decideAddItem(cart, p, 3, 'item-2', now);
    expect(second).toEqual({ ok: true, value: { kind: 'merged', item: { id: 'item-1', product_id: 'a', quantity: 5 }, reopenCheckout: false } });
  });

  it('refuses unknown (not_found), unavailable (product_unavailable) and over-stock (insufficient_stock) products', () => {
    expect(decideAddItem(emptyCart(), null, 1, 'i', now)).toMatchObject({ ok: false, error: { type: 'not_found' } });
    expect(decideAddItem(emptyCart(), product('a', { available: false }), 1, 'i', now)).toMatchObject({ ok: false, error: { type: 'product_unavailable', product_id: 'a' } });
    expect(decideAddItem(emptyCart(), product('a', { stock: 2 }), 3, 'i', now)).toMatchObject({
      ok: false,
      error: { type: 'insufficient_stock', items: [{ product_id: 'a', requested: 3, available: 2 }] },
    });
  });

  it('refuses a merged quantity over 999 or over stock', () => {
    const cart: CartState = { id: 'c', lines: [{ id: 'i', product_id: 'a', quantity: 998 }], checkout: null };
    expect(decideAddItem(cart, product('a', { stock: 5000 }), 2, 'j', now)).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
    expect(decideAddItem(cart, product('a', { stock: 999 }), 1, 'j', now)).toMatchObject({ ok: true, value: { kind: 'merged', item: { quantity: 999 } } });
    expect(decideAddItem(cart, product('a', { stock: 998 }), 1, 'j', now)).toMatchObject({ ok: false, error: { type: 'insufficient_stock' } });
  });

  it('refuses a new product once the cart holds 100 different products, but still merges into an existing line', () => {
    expect(MAX_CART_LINES).toBe(100);
    const full: CartState = { id: 'c', lines: Array.from({ length: MAX_CART_LINES }, (_, i) => ({ id: `i${i}`, product_id: `p${i}`, quantity: 1 })), checkout: null };
    expect(decideAddItem(full, product('new'), 1, 'j', now)).toMatchObject({ ok: false, error: { type: 'validation_failed', errors: [{ path: 'product_id' }] } });
    expect(decideAddItem(full, product('p7'), 2, 'j', now)).toMatchObject({ ok: true, value: { kind: 'merged', item: { id: 'i7', quantity: 3 } } });
    const almost: CartState = { ...full, lines: full.lines.slice(1) };
    expect(decideAddItem(almost, product('new'), 1, 'j', now)).toMatchObject({ ok: true, value: { kind: 'created' } });
  });

  it('answers not_found for an item that is not in the cart', () => {
    expect(decideChangeQuantity(emptyCart(), 'x', product('a'), 1, now)).toMatchObject({ ok: false, error: { type: 'not_found' } });
    expect(decideRemoveItem(emptyCart(), 'x', now)).toMatchObject({ ok: false, error: { type: 'not_found' } });
  });

  it('refuses every edit while the checkout is confirmed, and allows and reopens after it expired', () => {
    const lines = [{ id: 'i', product_id: 'a', quantity: 1 }];
    const frozen: CartState = { id: 'c', lines, checkout: confirmedUntil(later) };
    expect(decideAddItem(frozen, product('b'), 1, 'j', now)).toMatchObject({ ok: false, error: { type: 'cart_frozen' } });
    expect(decideChangeQuantity(frozen, 'i', product('a'), 2, now)).toMatchObject({ ok: false, error: { type: 'cart_frozen' } });
    expect(decideRemoveItem(frozen, 'i', now)).toMatchObject({ ok: false, error: { type: 'cart_frozen' } });
    const expired: CartState = { id: 'c', lines, checkout: confirmedUntil(past) };
    expect(decideChangeQuantity(expired, 'i', product('a'), 2, now)).toMatchObject({ ok: true, value: { reopenCheckout: true } });
  });

  it('shows item_count as units and subtotal as the sum of line totals, frozen prices while frozen', () => {
    const cart: CartState = {
      id: 'c',
      lines: [
        { id: 'i', product_id: 'a', quantity: 2 },
        { id: 'j', product_id: 'b', quantity: 3 },
      ],
      checkout: null,
    };
    const products = new Map([
      ['a', product('a', { unit_price: 150 })],
      ['b', product('b', { unit_price: 20 })],
    ]);
    expect(cartView(cart, products, 'USD', now)).toMatchObject({ status: 'active', item_count: 5, subtotal: 360 });
    const frozenCart: CartState = {
      ...cart,
      checkout: {
        status: 'confirmed',
        expires_at: later,
        frozen_items: [
          { product_id: 'a', vendor_id: 'v', name: 'Old', unit_price: 100, quantity: 2, line_total: 200 },
          { product_id: 'b', vendor_id: 'v', name: 'Old b', unit_price: 20, quantity: 3, line_total: 60 },
        ],
      },
    };
    expect(cartView(frozenCart, products, 'USD', now)).toMatchObject({ status: 'frozen', subtotal: 260, items: [{ name: 'Old', unit_price: 100 }, { name: 'Old b' }] });
  });

  it('closes an active cart once its checkout is completed, and refuses to close it otherwise or twice', () => {
    expect(decideCloseCart({ status: 'active' }, { status: 'completed' })).toEqual({ ok: true, value: 'closed' });
    expect(decideCloseCart({ status: 'closed' }, { status: 'completed' })).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    for (const status of ['open', 'confirmed'] as const) {
      expect(decideCloseCart({ status: 'active' }, { status })).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    }
  });

  describe('properties', () => {
    it('the cart machine accepts exactly active → closed, and closes only behind a completed checkout', () => {
      fc.assert(
        fc.property(fc.constantFrom(...CART_STATUSES), fc.constantFrom(...CART_STATUSES), fc.constantFrom(...STORED_CHECKOUT_STATUSES), (from, to, checkoutStatus) => {
          expect(canTransitionCart(from, to)).toBe(from === 'active' && to === 'closed');
          const decision = decideCloseCart({ status: from }, { status: checkoutStatus });
          expect(decision.ok).toBe(from === 'active' && checkoutStatus === 'completed');
          if (decision.ok) expect(canTransitionCart(from, decision.value)).toBe(true);
        }),
      );
    });

    const productIds = ['a', 'b', 'c', 'd'];
    const command = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), product: fc.constantFrom(...productIds), quantity: fc.integer({ min: -1, max: 1200 }) }),
      fc.record({ kind: fc.constant('change' as const), index: fc.nat(), quantity: fc.integer({ min: -1, max: 1200 }) }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
    );
    const catalog = fc.record(Object.fromEntries(productIds.map((id) => [id, fc.record({ stock: fc.integer({ min: 0, max: 2000 }), available: fc.boolean() })])) as Record<string, fc.Arbitrary<{ stock: number; available: boolean }>>);

    type Command = { kind: 'add'; product: string; quantity: number } | { kind: 'change'; index: number; quantity: number } | { kind: 'remove'; index: number };

    function run(cart: CartState, cmd: Command, facts: Record<string, { stock: number; available: boolean }>, n: number) {
      const p = (id: string) => product(id, facts[id]);
      if (cmd.kind === 'add') return decideAddItem(cart, p(cmd.product), cmd.quantity, `new-${n}`, now);
      const line = cart.lines[cmd.index % Math.max(1, cart.lines.length)];
      const id = line?.id ?? 'missing';
      if (cmd.kind === 'change') return decideChangeQuantity(cart, id, line ? p(line.product_id) : null, cmd.quantity, now);
      return decideRemoveItem(cart, id, now);
    }

    it('never holds two lines of one product, nor a quantity outside 1-999 or over stock when accepted', () => {
      fc.assert(
        fc.property(catalog, fc.array(command, { maxLength: 60 }), (facts, commands) => {
          let cart = emptyCart();
          commands.forEach((cmd, n) => {
            const decision = run(cart, cmd, facts, n);
            if (!decision.ok) return;
            const edit = decision.value;
            if (edit.kind !== 'removed') {
              expect(edit.item.quantity).toBeGreaterThanOrEqual(1);
              expect(edit.item.quantity).toBeLessThanOrEqual(999);
              expect(edit.item.quantity).toBeLessThanOrEqual(facts[edit.item.product_id]!.stock);
              expect(facts[edit.item.product_id]!.available).toBe(true);
            }
            cart = applyEdit(cart, edit);
            const ids = cart.lines.map((l) => l.product_id);
            expect(new Set(ids).size).toBe(ids.length);
          });
        }),
      );
    });

    it('a frozen cart never changes: every command is refused', () => {
      fc.assert(
        fc.property(catalog, fc.array(command, { maxLength: 40 }), fc.array(fc.constantFrom(...productIds), { minLength: 1, maxLength: 4 }), (facts, commands, held) => {
          const lines = [...new Set(held)].map((id, i) => ({ id: `line-${i}`, product_id: id, quantity: 1 }));
          const cart: CartState = { id: 'c', lines, checkout: confirmedUntil(later) };
          const snapshot = structuredClone(cart);
          commands.forEach((cmd, n) => {
            const decision = run(cart, cmd, facts, n);
            expect(decision.ok).toBe(false);
          });
          expect(cart).toEqual(snapshot);
        }),
      );
    });
  });
});

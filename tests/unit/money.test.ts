import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cartView, MAX_CART_LINES, type CartState } from '../../core/cart.js';
import { checkoutView, type LiveLine } from '../../core/checkout.js';
import { assertMoney, lineTotal, MAX_UNIT_PRICE, MoneyError, sumMoney } from '../../core/money.js';
import { MAX_LINE_QUANTITY } from '../../core/stock.js';
import { openCheckout } from './fixtures.js';

describe('money', () => {
  it('multiplies a unit price by a quantity exactly', () => {
    expect(lineTotal(1999, 3)).toBe(5997);
    expect(lineTotal(1, 0)).toBe(0);
  });

  it('rejects non-integer, non-finite and unsafe amounts', () => {
    for (const bad of [1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1]) expect(() => assertMoney(bad)).toThrow(MoneyError);
    expect(() => lineTotal(10.01, 2)).toThrow(MoneyError);
    expect(() => lineTotal(10, 1.5)).toThrow(MoneyError);
    expect(() => lineTotal(Number.MAX_SAFE_INTEGER, 2)).toThrow(MoneyError);
    expect(() => sumMoney([Number.MAX_SAFE_INTEGER, 1])).toThrow(MoneyError);
    expect(() => sumMoney([1, 0.1])).toThrow(MoneyError);
  });

  it('sums integers exactly, in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 50 }), (amounts) => {
        const total = sumMoney(amounts);
        expect(Number.isSafeInteger(total)).toBe(true);
        expect(sumMoney([...amounts].reverse())).toBe(total);
        expect(total).toBe(amounts.reduce((a, b) => a + b, 0));
      }),
    );
  });

  it('keeps the largest allowed cart (100 lines of 999 units at the maximum price) a safe integer, in the cart and checkout views', () => {
    const largest = MAX_CART_LINES * lineTotal(MAX_UNIT_PRICE, MAX_LINE_QUANTITY);
    expect(largest).toBe(99_900_000_000_000);
    expect(largest).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);

    const ids = Array.from({ length: MAX_CART_LINES }, (_, i) => `p${i}`);
    const cart: CartState = { id: 'c', lines: ids.map((id) => ({ id: `i-${id}`, product_id: id, quantity: MAX_LINE_QUANTITY })), checkout: null };
    const prices = new Map(ids.map((id) => [id, { name: id, unit_price: MAX_UNIT_PRICE }]));
    expect(cartView(cart, prices, 'USD', new Date(0)).subtotal).toBe(largest);

    const lines: LiveLine[] = ids.map((id) => ({ item_id: `i-${id}`, product: { id, vendor_id: 'v', name: id, unit_price: MAX_UNIT_PRICE, stock: 999, available: true }, quantity: MAX_LINE_QUANTITY }));
    expect(checkoutView(openCheckout('k', 'c'), lines, 'USD', new Date(0))).toMatchObject({ subtotal: largest, total: largest });
  });

  it('sums any allowed cart exactly: up to 100 lines, prices up to 10^9, quantities up to 999', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ price: fc.integer({ min: 1, max: MAX_UNIT_PRICE }), quantity: fc.integer({ min: 1, max: MAX_LINE_QUANTITY }) }), { maxLength: MAX_CART_LINES }),
        (lines) => {
          const total = sumMoney(lines.map((l) => lineTotal(l.price, l.quantity)));
          expect(Number.isSafeInteger(total)).toBe(true);
          expect(BigInt(total)).toBe(lines.reduce((sum, l) => sum + BigInt(l.price) * BigInt(l.quantity), 0n));
        },
      ),
    );
  });
});

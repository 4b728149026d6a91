import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertMoney, lineTotal, MoneyError, sumMoney } from '../../core/money.js';

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
});

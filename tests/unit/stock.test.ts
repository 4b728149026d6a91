import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeRequests, returnStock, shortfalls, takeStock } from '../../core/stock.js';

describe('stock', () => {
  it('takes stock only when there is enough', () => {
    expect(takeStock(5, 5)).toBe(0);
    expect(takeStock(5, 6)).toBeNull();
    expect(takeStock(5, 0)).toBeNull();
    expect(takeStock(5, -1)).toBeNull();
    expect(returnStock(0, 3)).toBe(3);
  });

  it('names every line asking for more than is in stock, with requested and available', () => {
    const stock = new Map([
      ['a', 3],
      ['b', 10],
    ]);
    expect(shortfalls([{ product_id: 'a', quantity: 4 }, { product_id: 'b', quantity: 10 }, { product_id: 'c', quantity: 1 }], stock)).toEqual([
      { product_id: 'a', requested: 4, available: 3 },
      { product_id: 'c', requested: 1, available: 0 },
    ]);
  });

  it('merges requests per product in id order (the order locks are taken in)', () => {
    expect(mergeRequests([{ product_id: 'b', quantity: 1 }, { product_id: 'a', quantity: 2 }, { product_id: 'b', quantity: 3 }])).toEqual([
      { product_id: 'a', quantity: 2 },
      { product_id: 'b', quantity: 4 },
    ]);
  });

  it('never goes negative over any sequence of takes and returns, and conserves units', () => {
    const op = fc.oneof(fc.record({ kind: fc.constant('take' as const), quantity: fc.integer({ min: -2, max: 20 }) }), fc.record({ kind: fc.constant('return' as const), index: fc.nat() }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.array(op, { maxLength: 100 }), (initial, ops) => {
        let stock = initial;
        const outstanding: number[] = [];
        for (const o of ops) {
          if (o.kind === 'take') {
            const after = takeStock(stock, o.quantity);
            if (after !== null) {
              outstanding.push(o.quantity);
              stock = after;
            }
          } else if (outstanding.length > 0) {
            const [q] = outstanding.splice(o.index % outstanding.length, 1);
            stock = returnStock(stock, q!);
          }
          expect(stock).toBeGreaterThanOrEqual(0);
          expect(stock + outstanding.reduce((a, b) => a + b, 0)).toBe(initial);
        }
      }),
    );
  });
});

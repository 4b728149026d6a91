import { describe, expect, it } from 'vitest';
import { mergeRequests, shortfalls } from '../../core/stock.js';

describe('stock', () => {
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
});

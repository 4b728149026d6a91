import type { StockShortfall } from './errors.js';

/**
 * Stock rules. Stock is a non-negative integer count per product. It moves only when an order is made
 * (decideOrderCreation checks `shortfalls`; the shell's conditional decrement, in `mergeRequests` order,
 * has the last word) and when one is cancelled or expired (its lines come back); the database's
 * CHECK (stock >= 0) backs this up.
 */

export const MAX_LINE_QUANTITY = 999;

export interface StockRequest {
  product_id: string;
  quantity: number;
}

/** The lines whose requested quantity exceeds what is in stock (unknown products count as 0 in stock). */
export function shortfalls(requests: readonly StockRequest[], stockById: ReadonlyMap<string, number>): StockShortfall[] {
  return requests
    .filter((r) => r.quantity > (stockById.get(r.product_id) ?? 0))
    .map((r) => ({ product_id: r.product_id, requested: r.quantity, available: stockById.get(r.product_id) ?? 0 }));
}

/** Same products, quantities summed, in a fixed order (product id): the order locks and decrements follow. */
export function mergeRequests(requests: readonly StockRequest[]): StockRequest[] {
  const byId = new Map<string, number>();
  for (const r of requests) byId.set(r.product_id, (byId.get(r.product_id) ?? 0) + r.quantity);
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([product_id, quantity]) => ({ product_id, quantity }));
}

import type { StockShortfall } from './errors.js';

/**
 * Stock rules. Stock is a non-negative integer count per product; it only moves by these decisions,
 * and the database's CHECK (stock >= 0) and conditional decrement back them up.
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

/** Stock after taking `quantity` out, or null when there is not enough: stock never goes negative. */
export function takeStock(stock: number, quantity: number): number | null {
  if (!Number.isInteger(quantity) || quantity <= 0) return null;
  return quantity <= stock ? stock - quantity : null;
}

/** Stock after `quantity` comes back (order cancelled or expired). */
export function returnStock(stock: number, quantity: number): number {
  return stock + Math.max(0, Math.trunc(quantity));
}

/** Same products, quantities summed, in a fixed order (product id): the order locks and decrements follow. */
export function mergeRequests(requests: readonly StockRequest[]): StockRequest[] {
  const byId = new Map<string, number>();
  for (const r of requests) byId.set(r.product_id, (byId.get(r.product_id) ?? 0) + r.quantity);
  return [...byId.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([product_id, quantity]) => ({ product_id, quantity }));
}

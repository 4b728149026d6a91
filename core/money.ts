/**
 * Money: integer minor units (cents, kobo) in the store's single currency.
 * Every amount passes through here, so a float or an unsafe integer can never reach a total.
 */

export class MoneyError extends Error {}

/**
 * The largest unit price, in minor units (10^9: ten million in a two-decimal currency). With at most
 * MAX_LINE_QUANTITY (999) per line and MAX_CART_LINES (100) lines per cart, a line stays below 10^12 and
 * a cart below 10^14, far inside Number.MAX_SAFE_INTEGER (about 9 × 10^15): no total can become unsafe.
 * The products table backs this up with CHECK (unit_price <= 1000000000).
 */
export const MAX_UNIT_PRICE = 1_000_000_000;

/** The amount itself, or a thrown MoneyError: a non-integer amount is a programming error, not a business outcome. */
export function assertMoney(amount: number, what = 'amount'): number {
  if (!Number.isSafeInteger(amount)) throw new MoneyError(`${what} must be a safe integer of minor units, got ${amount}`);
  return amount;
}

/** unit_price × quantity, both integers, with an exact (safe-integer) result. */
export function lineTotal(unitPrice: number, quantity: number): number {
  assertMoney(unitPrice, 'unit_price');
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new MoneyError(`quantity must be a non-negative integer, got ${quantity}`);
  return assertMoney(unitPrice * quantity, 'line_total');
}

/** Exact sum of integer amounts. */
export function sumMoney(amounts: readonly number[]): number {
  let total = 0;
  for (const a of amounts) total = assertMoney(total + assertMoney(a), 'total');
  return total;
}

/**
 * Money: integer minor units (cents, kobo) in the store's single currency.
 * Every amount passes through here, so a float or an unsafe integer can never reach a total.
 */

export class MoneyError extends Error {}

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

import { fail, ok, type Result } from './errors.js';

/** Bank account numbers: 6–34 letters and digits (domestic numbers up to IBANs); only the last 4 are ever shown. */

export const ACCOUNT_NUMBER = /^[A-Za-z0-9]{6,34}$/;

export function checkAccountNumber(accountNumber: string): Result<{ accountNumber: string; last4: string }> {
  if (!ACCOUNT_NUMBER.test(accountNumber)) {
    return fail({ type: 'validation_failed', errors: [{ path: 'account_number', message: 'Must be 6 to 34 letters and digits' }] });
  }
  return ok({ accountNumber, last4: accountNumber.slice(-4) });
}

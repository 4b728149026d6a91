import { z } from 'zod';
import type { BankAccountRow } from '../repos/bank-accounts.js';
import { timestamp } from './common.js';

export const bankAccountSchema = z
  .object({
    id: z.uuid(),
    vendor_id: z.uuid(),
    account_name: z.string(),
    bank_name: z.string(),
    bank_code: z.string(),
    account_number_last4: z.string().describe('The last four characters; the full number is never returned'),
    created_at: timestamp,
  })
  .meta({ id: 'BankAccount' });

export type BankAccount = z.infer<typeof bankAccountSchema>;

/** An explicit projection: the ciphertext and key id never reach a response. */
export function bankAccountView(a: BankAccountRow): BankAccount {
  return {
    id: a.id,
    vendor_id: a.vendor_id,
    account_name: a.account_name,
    bank_name: a.bank_name,
    bank_code: a.bank_code,
    account_number_last4: a.account_number_last4,
    created_at: a.created_at.toISOString(),
  };
}

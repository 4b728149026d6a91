import type { Insertable, Selectable, Updateable } from 'kysely';
import type { BankAccountsTable, DB, Trx } from '../../db/database.js';

type Conn = DB | Trx;

export type BankAccountRow = Selectable<BankAccountsTable>;

/** A bank account with the user id of its vendor's owner, for ownership checks. */
export type OwnedBankAccount = BankAccountRow & { owner_user_id: string };

export const findBankAccountById = (db: Conn, id: string): Promise<OwnedBankAccount | undefined> =>
  db
    .selectFrom('bank_accounts')
    .innerJoin('vendors', 'vendors.id', 'bank_accounts.vendor_id')
    .selectAll('bank_accounts')
    .select('vendors.user_id as owner_user_id')
    .where('bank_accounts.id', '=', id)
    .executeTakeFirst();

export const findBankAccountByVendorId = (db: Conn, vendorId: string): Promise<BankAccountRow | undefined> =>
  db.selectFrom('bank_accounts').selectAll().where('vendor_id', '=', vendorId).executeTakeFirst();

export const insertBankAccount = (db: Conn, row: Insertable<BankAccountsTable>): Promise<BankAccountRow> =>
  db.insertInto('bank_accounts').values(row).returningAll().executeTakeFirstOrThrow();

export const updateBankAccount = (db: Conn, id: string, changes: Updateable<BankAccountsTable>): Promise<BankAccountRow> =>
  db.updateTable('bank_accounts').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();

export async function deleteBankAccount(db: Conn, id: string): Promise<void> {
  await db.deleteFrom('bank_accounts').where('id', '=', id).execute();
}

/** Bank accounts for a list page: one vendor's, or (vendorId null) everyone's. */
export function bankAccountsListQuery(db: Conn, options: { vendorId: string | null }) {
  let q = db.selectFrom('bank_accounts').selectAll();
  if (options.vendorId !== null) q = q.where('vendor_id', '=', options.vendorId);
  return q;
}

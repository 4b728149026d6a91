import type { Insertable, Updateable } from 'kysely';
import type { DB, Trx, VendorRow, VendorsTable } from '../../db/database.js';

type Conn = DB | Trx;

export const findVendorById = (db: Conn, id: string): Promise<VendorRow | undefined> =>
  db.selectFrom('vendors').selectAll().where('id', '=', id).executeTakeFirst();

export const findVendorByUserId = (db: Conn, userId: string): Promise<VendorRow | undefined> =>
  db.selectFrom('vendors').selectAll().where('user_id', '=', userId).executeTakeFirst();

/** The user an admin names as the owner of a new profile: does it exist, and with which role? */
export const findUserRole = (db: Conn, userId: string): Promise<{ role: string } | undefined> =>
  db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();

export async function insertVendor(db: Conn, row: Insertable<VendorsTable>): Promise<VendorRow> {
  return db.insertInto('vendors').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateVendor(db: Conn, id: string, changes: Updateable<VendorsTable>): Promise<VendorRow> {
  return db.updateTable('vendors').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Vendors for a list page (ordering and limit are added by keysetPage). */
export function vendorsListQuery(db: Conn, options: { includeInactive: boolean }) {
  let q = db.selectFrom('vendors').selectAll();
  if (!options.includeInactive) q = q.where('is_active', '=', true);
  return q;
}

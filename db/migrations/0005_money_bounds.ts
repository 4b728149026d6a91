import { sql, type Kysely } from 'kysely';

// A unit price of at most 10^9 minor units keeps every line (≤ 999 units) and cart (≤ 100 lines) total a
// safe integer; core/product.ts enforces the same bound on writes, this backs it up in the database.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE products ADD CONSTRAINT products_unit_price_max CHECK (unit_price <= 1000000000)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE products DROP CONSTRAINT products_unit_price_max`.execute(db);
}

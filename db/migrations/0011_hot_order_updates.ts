import { sql, type Kysely } from 'kysely';

// Paying, cancelling, expiring or refunding an order changes its status; while orders_pending_due_idx
// had status in its predicate, every such update was a non-HOT one that wrote a new entry into each of
// the orders' indexes, into b-tree leaf pages that concurrent SERIALIZABLE transactions had
// predicate-locked by reading other orders by primary key: payment confirmations of unrelated orders
// failed with 40001 about once per purchase. The expiry job's index now keys on a flag that status
// changes do not touch (expiry_watched: true until the job has seen the order leave pending_payment),
// and orders keep room on each page, so a status change is a HOT update that writes no index entry.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Existing rows start unwatched (no table rewrite), then the pending ones are watched again.
  await sql`ALTER TABLE orders ADD COLUMN expiry_watched boolean NOT NULL DEFAULT false`.execute(db);
  await sql`UPDATE orders SET expiry_watched = true WHERE status = 'pending_payment'`.execute(db);
  await sql`ALTER TABLE orders ALTER COLUMN expiry_watched SET DEFAULT true`.execute(db);
  await sql`CREATE INDEX orders_expiry_watch_idx ON orders (payment_due_by) WHERE expiry_watched`.execute(db);
  await sql`DROP INDEX orders_pending_due_idx`.execute(db);
  await sql`ALTER TABLE orders SET (fillfactor = 85)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE orders RESET (fillfactor)`.execute(db);
  await sql`CREATE INDEX orders_pending_due_idx ON orders (payment_due_by) WHERE status = 'pending_payment'`.execute(db);
  await sql`DROP INDEX orders_expiry_watch_idx`.execute(db);
  await sql`ALTER TABLE orders DROP COLUMN expiry_watched`.execute(db);
}

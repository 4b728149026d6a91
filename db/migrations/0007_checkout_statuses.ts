import { sql, type Kysely } from 'kysely';

// "expired" is derived from expires_at (core/checkout.ts effectiveStatus) and never stored: the stored
// statuses are open, confirmed and completed. A row stored as expired by an older build is a confirmed
// checkout past its expires_at, or an open one when it froze nothing.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE checkouts SET status = CASE WHEN frozen_items IS NOT NULL AND expires_at IS NOT NULL AND total IS NOT NULL THEN 'confirmed' ELSE 'open' END WHERE status = 'expired'`.execute(db);
  await sql`ALTER TABLE checkouts DROP CONSTRAINT checkouts_status_check`.execute(db);
  await sql`ALTER TABLE checkouts ADD CONSTRAINT checkouts_status_check CHECK (status IN ('open', 'confirmed', 'completed'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE checkouts DROP CONSTRAINT checkouts_status_check`.execute(db);
  await sql`ALTER TABLE checkouts ADD CONSTRAINT checkouts_status_check CHECK (status IN ('open', 'confirmed', 'completed', 'expired'))`.execute(db);
}

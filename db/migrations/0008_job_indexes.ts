import { sql, type Kysely } from 'kysely';

// Indexes for the background jobs' sweeps, so each is a range scan however large the tables grow:
// reconcile (payments still pending since before a cutoff), cleanup (spent refresh tokens, old webhook
// payloads; idempotency keys and sent outbox rows have theirs already).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX payments_pending_created_idx ON payments (created_at) WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`.execute(db);
  await sql`CREATE INDEX webhook_events_received_idx ON webhook_events (received_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX webhook_events_received_idx`.execute(db);
  await sql`DROP INDEX refresh_tokens_expires_idx`.execute(db);
  await sql`DROP INDEX payments_pending_created_idx`.execute(db);
}

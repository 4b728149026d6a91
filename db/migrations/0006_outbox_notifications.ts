import { sql, type Kysely } from 'kysely';

// The outbox and the notifications the relay makes from it. A state change that must be told to someone
// writes an outbox row in its own transaction; the relay turns each row into one notification per
// recipient, which UNIQUE (outbox_id, user_id) keeps true even if the relay runs twice or in two workers.
// Sent outbox rows are deleted after a while; their notifications stay (outbox_id becomes null), and by
// then the row can no longer be relayed again. The expiry job's index, orders (payment_due_by) WHERE
// status = 'pending_payment', already exists (0003_commerce).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE outbox (
      id uuid PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('order_paid', 'order_expired', 'order_refunded')),
      subject_id uuid NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL,
      sent_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX outbox_unsent_idx ON outbox (created_at, id) WHERE sent_at IS NULL`.execute(db);
  await sql`CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL`.execute(db);

  await sql`
    CREATE TABLE notifications (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      outbox_id uuid REFERENCES outbox (id) ON DELETE SET NULL,
      kind text NOT NULL CHECK (kind IN ('order_paid', 'order_expired', 'order_refunded')),
      subject_id uuid NOT NULL,
      message text NOT NULL,
      created_at timestamptz NOT NULL,
      read_at timestamptz,
      emailed_at timestamptz,
      email_attempts integer NOT NULL DEFAULT 0 CHECK (email_attempts >= 0),
      last_email_error text,
      UNIQUE (outbox_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX notifications_unemailed_idx ON notifications (created_at, id) WHERE emailed_at IS NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE notifications`.execute(db);
  await sql`DROP TABLE outbox`.execute(db);
}

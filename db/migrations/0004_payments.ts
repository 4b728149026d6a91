import { sql, type Kysely } from 'kysely';

// Payments and provider webhook events. One succeeded payment per order and one pending payment per
// order are partial unique indexes; references and (provider, event id) are unique.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE payments (
      id uuid PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
      customer_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      provider text NOT NULL CHECK (provider IN ('fake', 'paystack', 'stripe')),
      reference text NOT NULL UNIQUE,
      provider_payment_id text,
      amount bigint NOT NULL CHECK (amount >= 0),
      currency text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
      method text,
      next_action jsonb,
      failure_reason text,
      needs_refund boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      succeeded_at timestamptz,
      CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL))
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX payments_one_succeeded_per_order ON payments (order_id) WHERE status = 'succeeded'`.execute(db);
  await sql`CREATE UNIQUE INDEX payments_one_pending_per_order ON payments (order_id) WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX payments_customer_idx ON payments (customer_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX payments_needs_refund_idx ON payments (created_at) WHERE needs_refund`.execute(db);

  await sql`
    CREATE TABLE webhook_events (
      id uuid PRIMARY KEY,
      provider text NOT NULL,
      event_id text NOT NULL,
      event_type text NOT NULL,
      reference text,
      payload jsonb NOT NULL,
      outcome text NOT NULL,
      received_at timestamptz NOT NULL,
      UNIQUE (provider, event_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE webhook_events`.execute(db);
  await sql`DROP TABLE payments`.execute(db);
}

import { sql, type Kysely } from 'kysely';

// Refunds (issue 13). Orders and payments may now be `refunded` and carry `refunded_at`; a refunded
// order keeps its paid_at and a refunded payment its succeeded_at. The refunds table holds every
// refund asked of a provider: at most one per payment is in flight or done (a partial unique index, so
// two admins at once cannot both refund), and a refund is always for exactly its payment's amount and
// currency (a composite foreign key), so what is refunded can never exceed what was paid.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE orders ADD COLUMN refunded_at timestamptz`.execute(db);
  await sql`ALTER TABLE orders DROP CONSTRAINT orders_status_check`.execute(db);
  await sql`ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_payment', 'paid', 'refunded', 'cancelled', 'expired'))`.execute(db);
  await sql`ALTER TABLE orders DROP CONSTRAINT orders_check`.execute(db);
  await sql`ALTER TABLE orders ADD CONSTRAINT orders_paid_at_check CHECK ((status IN ('paid', 'refunded')) = (paid_at IS NOT NULL))`.execute(db);
  await sql`ALTER TABLE orders ADD CONSTRAINT orders_refunded_at_check CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))`.execute(db);

  await sql`ALTER TABLE payments ADD COLUMN refunded_at timestamptz`.execute(db);
  await sql`ALTER TABLE payments DROP CONSTRAINT payments_status_check`.execute(db);
  await sql`ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled', 'refunded'))`.execute(db);
  await sql`ALTER TABLE payments DROP CONSTRAINT payments_check`.execute(db);
  await sql`ALTER TABLE payments ADD CONSTRAINT payments_succeeded_at_check CHECK ((status IN ('succeeded', 'refunded')) = (succeeded_at IS NOT NULL))`.execute(db);
  await sql`ALTER TABLE payments ADD CONSTRAINT payments_refunded_at_check CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))`.execute(db);
  await sql`ALTER TABLE payments ADD CONSTRAINT payments_id_amount_currency_key UNIQUE (id, amount, currency)`.execute(db);
  // Refund webhooks may name the payment only by the provider's id for it (a Stripe charge's payment_intent).
  await sql`CREATE INDEX payments_provider_payment_idx ON payments (provider, provider_payment_id) WHERE provider_payment_id IS NOT NULL`.execute(db);

  await sql`
    CREATE TABLE refunds (
      id uuid PRIMARY KEY,
      payment_id uuid NOT NULL,
      amount bigint NOT NULL CHECK (amount >= 0),
      currency text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
      requested_by uuid REFERENCES users (id) ON DELETE RESTRICT,
      idempotency_key text,
      provider_refund_id text,
      failure_reason text,
      requested_at timestamptz NOT NULL,
      completed_at timestamptz,
      updated_at timestamptz NOT NULL,
      FOREIGN KEY (payment_id, amount, currency) REFERENCES payments (id, amount, currency) ON DELETE RESTRICT ON UPDATE RESTRICT,
      CONSTRAINT refunds_completed_at_check CHECK ((status = 'pending') = (completed_at IS NULL))
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX refunds_one_active_per_payment ON refunds (payment_id) WHERE status IN ('pending', 'succeeded')`.execute(db);
  await sql`CREATE INDEX refunds_payment_idx ON refunds (payment_id, requested_at DESC)`.execute(db);
  await sql`CREATE INDEX refunds_pending_idx ON refunds (requested_at) WHERE status = 'pending'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE refunds`.execute(db);
  await sql`DROP INDEX payments_provider_payment_idx`.execute(db);
  await sql`ALTER TABLE payments DROP CONSTRAINT payments_id_amount_currency_key`.execute(db);
  await sql`ALTER TABLE payments DROP CONSTRAINT payments_refunded_at_check`.execute(db);
  await sql`ALTER TABLE payments DROP CONSTRAINT payments_succeeded_at_check`.execute(db);
  await sql`ALTER TABLE payments ADD CONSTRAINT payments_check CHECK ((status = 'succeeded') = (succeeded_at IS NOT NULL))`.execute(db);
  await sql`ALTER TABLE payments DROP CONSTRAINT payments_status_check`.execute(db);
  await sql`ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled'))`.execute(db);
  await sql`ALTER TABLE payments DROP COLUMN refunded_at`.execute(db);

  await sql`ALTER TABLE orders DROP CONSTRAINT orders_refunded_at_check`.execute(db);
  await sql`ALTER TABLE orders DROP CONSTRAINT orders_paid_at_check`.execute(db);
  await sql`ALTER TABLE orders ADD CONSTRAINT orders_check CHECK ((status = 'paid') = (paid_at IS NOT NULL))`.execute(db);
  await sql`ALTER TABLE orders DROP CONSTRAINT orders_status_check`.execute(db);
  await sql`ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_payment', 'paid', 'cancelled', 'expired'))`.execute(db);
  await sql`ALTER TABLE orders DROP COLUMN refunded_at`.execute(db);
}

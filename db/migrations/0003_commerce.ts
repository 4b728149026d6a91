import { sql, type Kysely } from 'kysely';

// Carts, checkouts, orders and idempotency keys. The database holds the invariants of DESIGN.md
// even if the code above it is wrong: stock never negative, one active cart per customer, one
// checkout per cart, one order per checkout, nothing a customer bought ever deleted.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE carts (
      id uuid PRIMARY KEY,
      customer_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      status text NOT NULL CHECK (status IN ('active', 'closed')),
      created_at timestamptz NOT NULL,
      closed_at timestamptz
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX carts_one_active_per_customer ON carts (customer_id) WHERE status = 'active'`.execute(db);

  await sql`
    CREATE TABLE cart_items (
      id uuid PRIMARY KEY,
      cart_id uuid NOT NULL REFERENCES carts (id) ON DELETE RESTRICT,
      product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
      quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (cart_id, product_id)
    )`.execute(db);

  await sql`
    CREATE TABLE checkouts (
      id uuid PRIMARY KEY,
      cart_id uuid NOT NULL UNIQUE REFERENCES carts (id) ON DELETE RESTRICT,
      customer_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      status text NOT NULL CHECK (status IN ('open', 'confirmed', 'completed', 'expired')),
      shipping_address jsonb,
      contact_phone text,
      frozen_items jsonb,
      subtotal bigint CHECK (subtotal >= 0),
      total bigint CHECK (total >= 0),
      confirmed_at timestamptz,
      expires_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CHECK (status <> 'confirmed' OR (frozen_items IS NOT NULL AND expires_at IS NOT NULL AND total IS NOT NULL))
    )`.execute(db);

  await sql`CREATE SEQUENCE order_number_seq START 1000`.execute(db);
  await sql`
    CREATE TABLE orders (
      id uuid PRIMARY KEY,
      number bigint NOT NULL UNIQUE DEFAULT nextval('order_number_seq'),
      customer_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      checkout_id uuid NOT NULL UNIQUE REFERENCES checkouts (id) ON DELETE RESTRICT,
      status text NOT NULL CHECK (status IN ('pending_payment', 'paid', 'cancelled', 'expired')),
      subtotal bigint NOT NULL CHECK (subtotal >= 0),
      total bigint NOT NULL CHECK (total >= 0),
      currency text NOT NULL,
      shipping_address jsonb NOT NULL,
      contact_phone text,
      payment_due_by timestamptz NOT NULL,
      paid_at timestamptz,
      cancelled_at timestamptz,
      expired_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CHECK ((status = 'paid') = (paid_at IS NOT NULL))
    )`.execute(db);
  await sql`CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX orders_pending_due_idx ON orders (payment_due_by) WHERE status = 'pending_payment'`.execute(db);

  await sql`
    CREATE TABLE order_items (
      id uuid PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
      product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
      vendor_id uuid NOT NULL REFERENCES vendors (id) ON DELETE RESTRICT,
      name text NOT NULL,
      unit_price bigint NOT NULL CHECK (unit_price > 0),
      quantity integer NOT NULL CHECK (quantity > 0),
      line_total bigint NOT NULL CHECK (line_total = unit_price * quantity),
      UNIQUE (order_id, product_id)
    )`.execute(db);
  await sql`CREATE INDEX order_items_vendor_idx ON order_items (vendor_id, order_id)`.execute(db);

  await sql`
    CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
      key text NOT NULL,
      request_hash text NOT NULL,
      response_status integer NOT NULL,
      response_body jsonb,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, key)
    )`.execute(db);
  await sql`CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE idempotency_keys`.execute(db);
  await sql`DROP TABLE order_items`.execute(db);
  await sql`DROP TABLE orders`.execute(db);
  await sql`DROP SEQUENCE order_number_seq`.execute(db);
  await sql`DROP TABLE checkouts`.execute(db);
  await sql`DROP TABLE cart_items`.execute(db);
  await sql`DROP TABLE carts`.execute(db);
}

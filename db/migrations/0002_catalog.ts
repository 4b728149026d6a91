import { sql, type Kysely } from 'kysely';

// Vendors, bank accounts (account number encrypted), categories, products and their images.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);

  await sql`
    CREATE TABLE vendors (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE RESTRICT,
      business_name text NOT NULL CHECK (length(business_name) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '',
      support_email text,
      is_active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX vendors_created_at_id_idx ON vendors (created_at, id)`.execute(db);

  await sql`
    CREATE TABLE bank_accounts (
      id uuid PRIMARY KEY,
      vendor_id uuid NOT NULL UNIQUE REFERENCES vendors (id) ON DELETE RESTRICT,
      account_name text NOT NULL,
      bank_name text NOT NULL,
      bank_code text NOT NULL,
      account_number_ciphertext text NOT NULL,
      account_number_key_id text NOT NULL,
      account_number_last4 text NOT NULL CHECK (length(account_number_last4) = 4),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);

  await sql`
    CREATE TABLE categories (
      id uuid PRIMARY KEY,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      slug text NOT NULL UNIQUE CHECK (slug ~ '^[^A-Z/\\s]+$'),
      description text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX categories_created_at_id_idx ON categories (created_at, id)`.execute(db);

  await sql`
    CREATE TABLE products (
      id uuid PRIMARY KEY,
      vendor_id uuid NOT NULL REFERENCES vendors (id) ON DELETE RESTRICT,
      category_id uuid NOT NULL REFERENCES categories (id) ON DELETE RESTRICT,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '',
      unit_price bigint NOT NULL CHECK (unit_price > 0),
      stock integer NOT NULL CHECK (stock >= 0),
      is_active boolean NOT NULL DEFAULT true,
      deleted_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);
  // Public listings only ever read live rows (active, not deleted): partial indexes keep them small.
  await sql`CREATE INDEX products_live_created_idx ON products (created_at DESC, id DESC) WHERE is_active AND deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX products_live_price_idx ON products (unit_price, id) WHERE is_active AND deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX products_live_name_idx ON products (name, id) WHERE is_active AND deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX products_live_category_idx ON products (category_id, created_at DESC, id DESC) WHERE is_active AND deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX products_live_vendor_idx ON products (vendor_id, created_at DESC, id DESC) WHERE is_active AND deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX products_live_in_stock_idx ON products (created_at DESC, id DESC) WHERE is_active AND deleted_at IS NULL AND stock > 0`.execute(db);
  await sql`CREATE INDEX products_search_trgm_idx ON products USING gin ((lower(name || ' ' || description)) gin_trgm_ops) WHERE deleted_at IS NULL`.execute(db);
  await sql`CREATE INDEX products_vendor_all_idx ON products (vendor_id)`.execute(db);

  await sql`
    CREATE TABLE product_images (
      id uuid PRIMARY KEY,
      product_id uuid NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
      storage_key text NOT NULL,
      url text NOT NULL,
      content_type text NOT NULL,
      size_bytes integer NOT NULL CHECK (size_bytes > 0),
      created_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX product_images_product_idx ON product_images (product_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE product_images`.execute(db);
  await sql`DROP TABLE products`.execute(db);
  await sql`DROP TABLE categories`.execute(db);
  await sql`DROP TABLE bank_accounts`.execute(db);
  await sql`DROP TABLE vendors`.execute(db);
}

import { createHmac, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { DB } from '../../db/database.js';
import { migrateToLatest, openPostgres, type DatabaseHandle } from '../../shell/db.js';
import { encodeCursor } from '../../shell/pagination.js';

/**
 * The bench's own database and rows: created fresh on the server of DATABASE_URL (or the local one),
 * migrated, seeded, and dropped at the end. Nothing here touches the database DATABASE_URL names.
 */

export const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Customers per group: each scenario writes as its own customers, so no run sees another's carts. */
export interface Customers {
  cart: string[];
  purchase: string[];
  sqlCart: string[];
  sqlPurchase: string[];
  hot: string[];
}

export interface World {
  handle: DatabaseHandle;
  url: string;
  vendorId: string;
  categorySlug: string;
  products: number;
  /** A publicly visible product, for GET /products/{id}/. */
  detailId: string;
  /** A signed cursor most of the way down the default ordering. */
  deepCursor: string;
  /** Products the write scenarios buy (stock large enough never to run out): one per purchasing customer. */
  cartProducts: string[];
  purchaseProducts: string[];
  sqlPurchaseProducts: string[];
  hotProduct: string;
  hotStock: number;
  customers: Customers;
  drop(): Promise<void>;
}

function urlWithDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** An access token as the app signs it (HS256, typ "access", tv): the bench logs no one in (argon2 would dominate). */
export function accessToken(secret: string, user: { id: string; role: 'customer' | 'vendor' | 'admin' }, ttlSeconds = 7200): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: user.id, role: user.role, tv: 0, typ: 'access', jti: randomUUID(), iat: now, exp: now + ttlSeconds })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const MILLION = 1_000_000;

/** Inserts `count` customers in one statement; returns their ids. */
async function insertCustomers(db: DB, group: string, count: number, now: Date): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  if (count === 0) return ids;
  await db
    .insertInto('users')
    .values(ids.map((id, i) => ({ id, email: `${group}-${i}@bench.test`, full_name: `Bench ${group} ${i}`, password_hash: 'not-a-hash', role: 'customer' as const, created_at: now, updated_at: now })))
    .execute();
  return ids;
}

/** Products for the write scenarios, dated before the whole catalog so no list page the reads fetch shows them. */
async function insertProducts(db: DB, vendorId: string, categoryId: string, prefix: string, count: number, stock: number, now: Date): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  if (count === 0) return ids;
  const longAgo = new Date(now.getTime() - 10 * 365 * 86_400_000);
  await db
    .insertInto('products')
    .values(ids.map((id, i) => ({ id, vendor_id: vendorId, category_id: categoryId, name: `${prefix} ${i}`, description: `Bench ${prefix.toLowerCase()} product.`, unit_price: 1999, stock, created_at: longAgo, updated_at: longAgo })))
    .execute();
  return ids;
}

/**
 * Past purchases: `count` closed carts with one line each, their completed checkouts, paid orders with
 * their lines, succeeded payments and sent outbox rows, by `buyers` customers. A shop has history, and
 * its indexes have more than one page: on empty tables every SERIALIZABLE reader of cart_items or
 * payments would share a single b-tree leaf page (predicate locks are per page) with every writer.
 */
async function insertHistory(db: DB, vendorId: string, count: number, buyers: number, now: Date): Promise<void> {
  if (count === 0) return;
  const customers = await insertCustomers(db, 'history', buyers, now);
  const ids = sql`${sql.val(customers)}::uuid[]`;
  const at = new Date(now.getTime() - 86_400_000);
  const id = (kind: string) => sql.raw(`md5('${kind}:' || i)::uuid`);
  // Bought from the catalog only (never from the write scenarios' products, whose stock the bench checks).
  await sql`
    CREATE TEMP TABLE bought AS
    SELECT row_number() OVER (ORDER BY created_at DESC, id) - 1 AS n, id, name, unit_price FROM products
    WHERE vendor_id = ${vendorId}::uuid AND created_at > ${new Date(now.getTime() - 5 * 365 * 86_400_000)}::timestamptz`.execute(db);
  await sql`
    CREATE TEMP TABLE history AS
    SELECT i, ${id('cart')} AS cart_id, ${id('item')} AS item_id, ${id('checkout')} AS checkout_id, ${id('order')} AS order_id,
           ${id('line')} AS line_id, ${id('payment')} AS payment_id, ${id('outbox')} AS outbox_id,
           (${ids})[1 + i % cardinality(${ids})] AS customer_id, p.id AS product_id, p.name, p.unit_price,
           ${at}::timestamptz - i * interval '1 second' AS at
    FROM generate_series(1, ${count}::int) AS i
    JOIN bought p ON p.n = i % (SELECT count(*) FROM bought)`.execute(db);
  await sql`INSERT INTO carts (id, customer_id, status, created_at, closed_at) SELECT cart_id, customer_id, 'closed', at, at FROM history`.execute(db);
  await sql`INSERT INTO cart_items (id, cart_id, product_id, quantity, created_at, updated_at) SELECT item_id, cart_id, product_id, 1, at, at FROM history`.execute(db);
  await sql`
    INSERT INTO checkouts (id, cart_id, customer_id, status, shipping_address, frozen_items, subtotal, total, confirmed_at, expires_at, created_at, updated_at)
    SELECT checkout_id, cart_id, customer_id, 'completed', '{"line1":"1 Old Road","city":"Springfield","postal_code":"12345","country":"US"}',
           jsonb_build_array(jsonb_build_object('product_id', product_id, 'vendor_id', ${vendorId}::uuid, 'name', name, 'unit_price', unit_price, 'quantity', 1, 'line_total', unit_price)),
           unit_price, unit_price, at, at + interval '15 minutes', at, at
    FROM history`.execute(db);
  await sql`
    INSERT INTO orders (id, customer_id, checkout_id, status, subtotal, total, currency, shipping_address, payment_due_by, paid_at, created_at, updated_at)
    SELECT order_id, customer_id, checkout_id, 'paid', unit_price, unit_price, 'USD', '{"line1":"1 Old Road","city":"Springfield","postal_code":"12345","country":"US"}',
           at + interval '30 minutes', at, at, at
    FROM history`.execute(db);
  await sql`
    INSERT INTO order_items (id, order_id, product_id, vendor_id, name, unit_price, quantity, line_total)
    SELECT line_id, order_id, product_id, ${vendorId}::uuid, name, unit_price, 1, unit_price FROM history`.execute(db);
  await sql`
    INSERT INTO payments (id, order_id, customer_id, provider, reference, provider_payment_id, amount, currency, status, next_action, created_at, updated_at, succeeded_at)
    SELECT payment_id, order_id, customer_id, 'fake', 'nx_history_' || i, 'fake_nx_history_' || i, unit_price, 'USD', 'succeeded', 'null', at, at, at FROM history`.execute(db);
  await sql`INSERT INTO outbox (id, kind, subject_id, created_at, sent_at) SELECT outbox_id, 'order_paid', order_id, at, at FROM history`.execute(db);
  await sql`DROP TABLE history, bought`.execute(db);
}

export interface WorldOptions {
  serverUrl: string;
  name: string;
  products: number;
  /** Past purchases already in the database (see insertHistory). */
  history: number;
  connections: number;
  hotCustomers: number;
  hotStock: number;
  cursorSecret: string;
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const { serverUrl, name } = options;
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bench database name ${name}: lower-case letters, digits and _ only`);
  await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const url = urlWithDatabase(serverUrl, name);
  const handle = openPostgres(url, 4);
  const drop = async () => {
    await handle.close().catch(() => undefined);
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    const db = handle.db;
    await migrateToLatest(db);
    // Whole milliseconds, like every timestamp the API writes, so keyset cursors round-trip exactly.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);

    const vendorUserId = randomUUID();
    await db.insertInto('users').values({ id: vendorUserId, email: 'vendor@bench.test', full_name: 'Bench Vendor', password_hash: 'not-a-hash', role: 'vendor', created_at: now, updated_at: now }).execute();
    const vendorId = randomUUID();
    await db.insertInto('vendors').values({ id: vendorId, user_id: vendorUserId, business_name: 'Bench Goods', created_at: now, updated_at: now }).execute();
    const slugs = ['kitchen', 'lighting', 'outdoor', 'audio', 'garden'];
    const categories = slugs.map((slug) => ({ id: randomUUID(), slug, name: slug[0]!.toUpperCase() + slug.slice(1), created_at: now, updated_at: now }));
    await db.insertInto('categories').values(categories).execute();
    const categoryIds = sql`${sql.val(categories.map((c) => c.id))}::uuid[]`;

    // The catalog: names with a colour word for ?q=, every 17th out of stock, every 50th inactive,
    // every 97th deleted (like scripts/seed.ts), one second apart so the default ordering is stable.
    await sql`
      INSERT INTO products (id, vendor_id, category_id, name, description, unit_price, stock, is_active, deleted_at, created_at, updated_at)
      SELECT gen_random_uuid(), ${vendorId}::uuid,
             (${categoryIds})[1 + i % 5],
             (ARRAY['Classic','Compact','Rustic','Modern','Sturdy'])[1 + i % 5] || ' ' || (ARRAY['Skillet','Lamp','Tent','Speaker','Trowel','Kettle'])[1 + i % 6] || ' #' || i,
             'Bench item ' || i || ' in ' || (ARRAY['red','blue','walnut','copper','slate'])[1 + (i / 5) % 5] || ', made to last.',
             100 + (i * 7919) % 99900,
             CASE WHEN i % 17 = 0 THEN 0 ELSE (i * 31) % 500 END,
             i % 50 <> 0,
             CASE WHEN i % 97 = 0 THEN ${now}::timestamptz END,
             ${now}::timestamptz - i * interval '1 second',
             ${now}::timestamptz - i * interval '1 second'
      FROM generate_series(1, ${options.products}::int) AS i`.execute(db);

    const c = options.connections;
    const catalogCategory = categories[0]!.id;
    const cartProducts = await insertProducts(db, vendorId, catalogCategory, 'Cart', 10, MILLION, now);
    const purchaseProducts = await insertProducts(db, vendorId, catalogCategory, 'Purchase', c, MILLION, now);
    const sqlPurchaseProducts = await insertProducts(db, vendorId, catalogCategory, 'Purchase (SQL)', c, MILLION, now);
    const [hotProduct] = await insertProducts(db, vendorId, catalogCategory, 'Hot', 1, options.hotStock, now);
    const customers: Customers = {
      cart: await insertCustomers(db, 'cart', c, now),
      purchase: await insertCustomers(db, 'purchase', c, now),
      sqlCart: await insertCustomers(db, 'sql-cart', c, now),
      sqlPurchase: await insertCustomers(db, 'sql-purchase', c, now),
      hot: await insertCustomers(db, 'hot', options.hotCustomers, now),
    };
    await insertHistory(db, vendorId, options.history, 1000, now);
    await sql`ANALYZE`.execute(db);

    const detail = await db
      .selectFrom('products')
      .select('id')
      .where('is_active', '=', true)
      .where('deleted_at', 'is', null)
      .orderBy('created_at', 'desc')
      .offset(Math.floor(options.products / 2))
      .limit(1)
      .executeTakeFirstOrThrow();
    // The boundary row of a cursor 90% of the way down the default ordering (-created_at, id).
    const boundary = await sql<{ created_at: Date; id: string }>`
      SELECT p.created_at, p.id FROM products p JOIN vendors v ON v.id = p.vendor_id JOIN users vu ON vu.id = v.user_id
      WHERE p.is_active AND p.deleted_at IS NULL AND v.is_active AND vu.is_active
      ORDER BY p.created_at DESC, p.id DESC OFFSET ${Math.floor(options.products * 0.9)} LIMIT 1`.execute(db);
    const row = boundary.rows[0];
    if (!row) throw new Error('no row for the deep cursor: seed more products');
    const deepCursor = encodeCursor(options.cursorSecret, { k: [row.created_at.toISOString(), row.id], d: 'n', o: '-created_at' });

    return {
      handle,
      url,
      vendorId,
      categorySlug: 'outdoor',
      products: options.products,
      detailId: detail.id,
      deepCursor,
      cartProducts,
      purchaseProducts,
      sqlPurchaseProducts,
      hotProduct: hotProduct!,
      hotStock: options.hotStock,
      customers,
      drop,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

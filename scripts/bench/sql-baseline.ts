import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * The write baselines: the same rows written as by the API, by hand over `pg` (no HTTP, no framework, no
 * query builder), in as few round trips as a careful hand-written service would use, at the same
 * isolation (SERIALIZABLE, retried on 40001/40P01) wherever the API needs a transaction.
 */

const RETRYABLE = new Set(['40001', '40P01']);

/** Serialization retries of the baseline's transactions so far (the bench reads the difference). */
export const baselineStats = { retries: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inSerializable<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!RETRYABLE.has(String((error as { code?: unknown }).code)) || attempt >= 20) throw error;
      baselineStats.retries++;
      await sleep(Math.random() * Math.min(1000, 10 * 2 ** attempt));
    } finally {
      client.release();
    }
  }
}

const ADDRESS = JSON.stringify({ line1: '1 Bench Street', city: 'Springfield', postal_code: '12345', country: 'US' });

/** A visible product's price and stock, or undefined. */
const PRODUCT_FACTS = `
  SELECT p.id, p.vendor_id, p.name, p.unit_price, p.stock FROM products p
  JOIN vendors v ON v.id = p.vendor_id JOIN users vu ON vu.id = v.user_id
  WHERE p.id = $1 AND p.is_active AND p.deleted_at IS NULL AND v.is_active AND vu.is_active`;

/** Adds `quantity` of a product to the customer's active cart (made first if there is none): 5 round trips, 6 the first time. Returns the cart id. */
export async function addToCart(pool: pg.Pool, customerId: string, productId: string, quantity: number): Promise<string> {
  for (;;) {
    const now = new Date();
    const added = await inSerializable(pool, async (c) => {
      const cart = await c.query<{ id: string; checkout_status: string | null; lines: number }>(
        `SELECT c.id, ch.status AS checkout_status, (SELECT count(*)::int FROM cart_items i WHERE i.cart_id = c.id) AS lines
         FROM carts c LEFT JOIN checkouts ch ON ch.cart_id = c.id WHERE c.customer_id = $1 AND c.status = 'active'`,
        [customerId],
      );
      const row = cart.rows[0];
      if (!row) return null;
      if (row.checkout_status === 'confirmed' || row.lines >= 100) throw new Error('baseline: cart frozen or full');
      const product = await c.query<{ stock: number }>(PRODUCT_FACTS, [productId]);
      if (!product.rows[0] || product.rows[0].stock < quantity) throw new Error('baseline: product unavailable');
      await c.query(
        `INSERT INTO cart_items (id, cart_id, product_id, quantity, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity, updated_at = EXCLUDED.updated_at`,
        [randomUUID(), row.id, productId, quantity, now],
      );
      return row.id;
    });
    if (added !== null) return added;
    await pool.query(`INSERT INTO carts (id, customer_id, status, created_at) VALUES ($1, $2, 'active', $3) ON CONFLICT DO NOTHING`, [randomUUID(), customerId, now]);
  }
}

/**
 * The whole purchase of one unit: cart, add, shipping address, confirm (freeze), order (stock taken),
 * payment initiated (pending, then the provider's id stored) and confirmed (payment succeeded, order paid,
 * outbox row). Returns the order id.
 */
export async function purchase(pool: pg.Pool, customerId: string, productId: string): Promise<string> {
  const now = () => new Date();
  const cartId = await addToCart(pool, customerId, productId, 1);

  await pool.query(
    `INSERT INTO checkouts (id, cart_id, customer_id, status, shipping_address, created_at, updated_at) VALUES ($1, $2, $3, 'open', $4, $5, $5)
     ON CONFLICT (cart_id) DO UPDATE SET shipping_address = EXCLUDED.shipping_address, updated_at = EXCLUDED.updated_at WHERE checkouts.status IN ('open', 'expired')`,
    [randomUUID(), cartId, customerId, ADDRESS, now()],
  );

  await inSerializable(pool, async (c) => {
    const lines = await c.query<{ product_id: string; vendor_id: string; name: string; unit_price: number; quantity: number; stock: number }>(
      `SELECT i.product_id, p.vendor_id, p.name, p.unit_price, i.quantity, p.stock FROM cart_items i
       JOIN products p ON p.id = i.product_id JOIN vendors v ON v.id = p.vendor_id JOIN users vu ON vu.id = v.user_id
       WHERE i.cart_id = $1 AND p.is_active AND p.deleted_at IS NULL AND v.is_active AND vu.is_active ORDER BY i.created_at, i.id`,
      [cartId],
    );
    if (lines.rows.length === 0 || lines.rows.some((l) => l.stock < l.quantity)) throw new Error('baseline: cannot confirm');
    const frozen = lines.rows.map((l) => ({ product_id: l.product_id, vendor_id: l.vendor_id, name: l.name, unit_price: l.unit_price, quantity: l.quantity, line_total: l.unit_price * l.quantity }));
    const total = frozen.reduce((sum, f) => sum + f.line_total, 0);
    const at = now();
    await c.query(
      `UPDATE checkouts SET status = 'confirmed', frozen_items = $2, subtotal = $3, total = $3, confirmed_at = $4, expires_at = $5, updated_at = $4
       WHERE cart_id = $1 AND status = 'open' AND shipping_address IS NOT NULL`,
      [cartId, JSON.stringify(frozen), total, at, new Date(at.getTime() + 900_000)],
    );
  });

  const orderId = randomUUID();
  await inSerializable(pool, async (c) => {
    const at = now();
    const checkout = await c.query<{ id: string; frozen_items: { product_id: string; vendor_id: string; name: string; unit_price: number; quantity: number; line_total: number }[]; total: number; shipping_address: unknown }>(
      `SELECT id, frozen_items, total, shipping_address FROM checkouts WHERE cart_id = $1 AND status = 'confirmed' AND expires_at > $2`,
      [cartId, at],
    );
    const co = checkout.rows[0];
    if (!co) throw new Error('baseline: checkout not confirmed');
    for (const item of co.frozen_items) {
      const taken = await c.query(`UPDATE products SET stock = stock - $2, updated_at = $3 WHERE id = $1 AND stock >= $2 RETURNING stock`, [item.product_id, item.quantity, at]);
      if (taken.rowCount !== 1) throw new Error('baseline: out of stock');
    }
    await c.query(
      `INSERT INTO orders (id, customer_id, checkout_id, status, subtotal, total, currency, shipping_address, payment_due_by, created_at, updated_at)
       VALUES ($1, $2, $3, 'pending_payment', $4, $4, 'USD', $5, $6, $7, $7) RETURNING number`,
      [orderId, customerId, co.id, co.total, JSON.stringify(co.shipping_address), new Date(at.getTime() + 1_800_000), at],
    );
    const items = co.frozen_items;
    await c.query(
      `INSERT INTO order_items (id, order_id, product_id, vendor_id, name, unit_price, quantity, line_total)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::bigint[], $7::int[], $8::bigint[])`,
      [items.map(() => randomUUID()), items.map(() => orderId), items.map((i) => i.product_id), items.map((i) => i.vendor_id), items.map((i) => i.name), items.map((i) => i.unit_price), items.map((i) => i.quantity), items.map((i) => i.line_total)],
    );
    await c.query(`UPDATE checkouts SET status = 'completed', updated_at = $2 WHERE id = $1`, [co.id, at]);
    await c.query(`UPDATE carts SET status = 'closed', closed_at = $2 WHERE id = $1`, [cartId, at]);
  });

  const paymentId = randomUUID();
  const reference = `nx_${randomBytes(12).toString('hex')}`;
  await inSerializable(pool, async (c) => {
    const order = await c.query<{ total: number }>(`SELECT total FROM orders WHERE id = $1 AND customer_id = $2 AND status = 'pending_payment' AND payment_due_by > $3`, [orderId, customerId, now()]);
    if (!order.rows[0]) throw new Error('baseline: order not payable');
    const at = now();
    await c.query(
      `INSERT INTO payments (id, order_id, customer_id, provider, reference, amount, currency, status, next_action, created_at, updated_at)
       VALUES ($1, $2, $3, 'fake', $4, $5, 'USD', 'pending', 'null', $6, $6)`,
      [paymentId, orderId, customerId, reference, order.rows[0].total, at],
    );
  });
  await pool.query(`UPDATE payments SET provider_payment_id = $2, updated_at = $3 WHERE id = $1 AND status = 'pending' AND provider_payment_id IS NULL`, [paymentId, `fake_${reference}`, now()]);

  await inSerializable(pool, async (c) => {
    const at = now();
    const found = await c.query<{ status: string; order_status: string }>(
      `SELECT p.status, o.status AS order_status FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.reference = $1`,
      [reference],
    );
    if (found.rows[0]?.status !== 'pending' || found.rows[0].order_status !== 'pending_payment') throw new Error('baseline: payment not pending');
    await c.query(`UPDATE payments SET status = 'succeeded', succeeded_at = $2, updated_at = $2 WHERE id = $1`, [paymentId, at]);
    await c.query(`UPDATE orders SET status = 'paid', paid_at = $2, updated_at = $2 WHERE id = $1 AND status = 'pending_payment'`, [orderId, at]);
    await c.query(`INSERT INTO outbox (id, kind, subject_id, created_at) VALUES ($1, 'order_paid', $2, $3)`, [randomUUID(), orderId, at]);
  });
  return orderId;
}

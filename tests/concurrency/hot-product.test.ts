import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS, commerceContext, createProduct, insertConfirmedCheckout, stockOf, type Catalog, type ProductFixture } from '../support/commerce-fixtures.js';
import { listenOnFreePort, type TestContext, type TestUser } from '../support/harness.js';

/**
 * Many customers at once on a listening server: real parallel HTTP requests, database state asserted.
 */

const THROUGH_THE_API = 5;
describe('a hot product under many simultaneous orders', () => {
  let ctx: TestContext;
  let catalog: Catalog;
  let base: string;

  beforeAll(async () => {
    ({ ctx, catalog } = await commerceContext());
    base = await listenOnFreePort(ctx);
  });
  afterAll(() => ctx.close());

  const call = async (method: string, path: string, as: TestUser, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...as.headers, ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> & { code?: string } };
  };

  /**
   * Each customer's cart holds one unit of the product and their checkout is confirmed. The first few go
   * through the API; the rest are written directly, which is quicker and leaves the same rows.
   */
  async function customersReadyToOrder(count: number, product: ProductFixture): Promise<TestUser[]> {
    const customers: TestUser[] = [];
    for (let i = 0; i < count; i++) customers.push(await ctx.user('customer'));
    for (const [i, c] of customers.entries()) {
      if (i < THROUGH_THE_API) {
        expect((await call('POST', '/cart-items/', c, { product_id: product.id, quantity: 1 })).status).toBe(201);
        expect((await call('PATCH', '/checkout/update/', c, { shipping_address: ADDRESS })).status).toBe(200);
        expect((await call('POST', '/checkout/confirm/', c)).status).toBe(200);
      } else {
        await insertConfirmedCheckout(ctx.db, c.id, product, 1, ctx.config.CHECKOUT_TTL_SECONDS);
      }
    }
    return customers;
  }

  /** Fires one request per customer all at once and reports how long the burst took. */
  async function burst<T>(label: string, customers: TestUser[], send: (c: TestUser) => Promise<T>): Promise<T[]> {
    const started = performance.now();
    const answers = await Promise.all(customers.map(send));
    console.info(`${label}: ${customers.length} requests in ${Math.round(performance.now() - started)} ms`);
    return answers;
  }

  async function ordersOf(productId: string) {
    return ctx.db.selectFrom('order_items as oi').innerJoin('orders as o', 'o.id', 'oi.order_id').select(['o.id', 'o.status', 'oi.quantity']).where('oi.product_id', '=', productId).execute();
  }

  it('200 customers ordering the last unit: exactly one order, 199 insufficient_stock, stock 0, no 5xx', async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 1 });
    const customers = await customersReadyToOrder(200, product);
    const answers = await burst('stock 1', customers, (c) => call('POST', '/orders/create/', c));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'insufficient_stock')).toHaveLength(199);
    const orders = await ordersOf(product.id);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ status: 'pending_payment', quantity: 1 });
    expect(await stockOf(ctx.db, product.id)).toBe(0);
    // Every refused customer's checkout is open again; the winner's is completed, and the winner has the
    // open, empty checkout of the next cart its order made.
    const winner = customers[statuses.indexOf(201)]!.id;
    const checkouts = await ctx.db.selectFrom('checkouts').select(['status', 'customer_id', 'frozen_items']).where('customer_id', 'in', customers.map((c) => c.id)).execute();
    expect(checkouts.filter((c) => c.status === 'completed').map((c) => c.customer_id)).toEqual([winner]);
    expect(checkouts.filter((c) => c.status === 'open' && c.customer_id !== winner)).toHaveLength(199);
    expect(checkouts.filter((c) => c.customer_id === winner && c.status === 'open').map((c) => c.frozen_items)).toEqual([null]);
  });

  it('200 customers ordering one unit of 50: exactly 50 orders, 150 insufficient_stock, stock 0, no 5xx', async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 50 });
    const customers = await customersReadyToOrder(200, product);
    const answers = await burst('stock 50', customers, (c) => call('POST', '/orders/create/', c));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(50);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'insufficient_stock')).toHaveLength(150);
    const orders = await ordersOf(product.id);
    expect(orders).toHaveLength(50);
    expect(new Set(orders.map((o) => o.id))).toEqual(new Set(created.map((a) => a.body.id)));
    expect(orders.reduce((n, o) => n + o.quantity, 0)).toBe(50);
    expect(await stockOf(ctx.db, product.id)).toBe(0);
    const numbers = created.map((a) => a.body.number as number);
    expect(new Set(numbers).size).toBe(50);
  });

  it('20 concurrent requests with one Idempotency-Key make exactly one order; the others are replays or in flight', async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 10 });
    const [customer] = await customersReadyToOrder(1, product);
    const answers = await burst('one key', Array(20).fill(customer!), (c) => call('POST', '/orders/create/', c, undefined, { 'idempotency-key': 'one-click' }));
    const fresh = answers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') === null);
    const replays = answers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') === 'true');
    const inFlight = answers.filter((a) => a.status === 409 && a.body.code === 'idempotency_request_in_flight');
    expect(fresh).toHaveLength(1);
    expect(replays.length + inFlight.length).toBe(19);
    for (const r of replays) expect(r.body).toEqual(fresh[0]!.body);
    const orders = await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer!.id).execute();
    expect(orders).toEqual([{ id: fresh[0]!.body.id }]);
    expect(await stockOf(ctx.db, product.id)).toBe(9);
  });
});

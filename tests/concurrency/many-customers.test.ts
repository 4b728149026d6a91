import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS, commerceContext, createProduct, type ProductFixture } from '../support/commerce-fixtures.js';
import { callApi, listenOnFreePort, type TestContext, type TestUser } from '../support/harness.js';

/**
 * Many different customers shopping at the same moment (no shared product stock at risk): each one's
 * cart edit, checkout update and confirm run in SERIALIZABLE transactions that touch the same small
 * tables and index pages. Every customer must get a correct answer, never a 5xx.
 */
const CUSTOMERS = 60;

describe('many customers shopping at once', () => {
  let ctx: TestContext;
  let base: string;
  let products: ProductFixture[];

  beforeAll(async () => {
    const setup = await commerceContext();
    ctx = setup.ctx;
    const catalog = setup.catalog;
    products = [];
    for (let i = 0; i < 3; i++) products.push(await createProduct(ctx.db, catalog, { stock: 10_000 }));
    base = await listenOnFreePort(ctx);
  });
  afterAll(() => ctx.close());

  const call = (method: string, path: string, as: TestUser, body?: unknown) => callApi(base, method, path, as, body);

  it('gives every one of them their cart, checkout and confirmation', async () => {
    const customers: TestUser[] = [];
    for (let i = 0; i < CUSTOMERS; i++) customers.push(await ctx.user('customer'));

    const started = performance.now();
    const statuses = await Promise.all(
      customers.map(async (c, i) => {
        const product = products[i % products.length]!;
        const add = await call('POST', '/cart-items/', c, { product_id: product.id, quantity: 2 });
        const update = await call('PATCH', '/checkout/update/', c, { shipping_address: ADDRESS });
        const confirm = await call('POST', '/checkout/confirm/', c);
        return [add.status, update.status, confirm.status];
      }),
    );
    console.info(`${CUSTOMERS} customers × 3 writes at once: ${Math.round(performance.now() - started)} ms`);

    expect(statuses.flat().filter((s) => s >= 500)).toEqual([]);
    expect(statuses).toEqual(customers.map(() => [201, 200, 200]));

    const confirmed = await ctx.db.selectFrom('checkouts').select(['customer_id', 'status', 'total']).where('status', '=', 'confirmed').execute();
    expect(confirmed).toHaveLength(CUSTOMERS);
    expect(new Set(confirmed.map((c) => c.customer_id))).toEqual(new Set(customers.map((c) => c.id)));
    for (const row of confirmed) expect(row.total).toBe(2 * 1250);
    const lines = await ctx.db.selectFrom('cart_items').select(({ fn }) => [fn.countAll<number>().as('n'), fn.sum<number>('quantity').as('units')]).executeTakeFirstOrThrow();
    expect(Number(lines.n)).toBe(CUSTOMERS);
    expect(Number(lines.units)).toBe(2 * CUSTOMERS);
  });
});

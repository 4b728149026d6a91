import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB, Role } from '../../db/database.js';
import { buildApp } from '../../shell/app.js';
import { USERS_NAMESPACE } from '../../shell/auth-cache.js';
import { memoryCache, noCache, type Cache } from '../../shell/cache.js';
import { loadConfig } from '../../shell/config.js';
import { openPostgres, type DatabaseHandle } from '../../shell/db.js';
import { ADDRESS } from '../support/commerce-fixtures.js';
import { createTestDatabase } from '../support/harness.js';

/**
 * No N+1: the database queries one request runs (counted by a Kysely log hook on the app's database, so
 * transaction statements count too) are the same whether the page or order holds 2 rows or 20.
 * Each route also has a budget, so a new round trip on a hot path is a decision, not an accident.
 */

// An authenticated request reads its caller's users row only when the users auth cache has no current
// entry for it (shell/auth-cache.ts): every counted request comes after its caller's earlier ones, so
// none of them reads it. The cart and checkout flows run BEGIN, one query for the cart with its lines,
// checkout and products, the one write their decision asks for (none for a read), COMMIT. A first
// access that finds no cart also runs BEGIN, that query, ROLLBACK and the insert of the cart with its
// checkout before it.
const BUDGET = {
  productList: 2,
  orderList: 2,
  orderDetail: 2,
  cart: 3,
  cartWrite: 4,
  firstCartWrite: 8,
  checkout: 3,
  checkoutWrite: 4,
  paymentList: 2,
  // Buying one product. Order create: the pre-read of the products to lock, the product's advisory lock,
  // BEGIN, the cart with its checkout, the products, the stock decrement, the order with its lines, the
  // checkout completed with its cart closed, COMMIT, the unlock, and the customer's next cart with its
  // checkout made (so the next add to cart is a cartWrite, not a firstCartWrite). Payment initiate: the customer's e-mail,
  // BEGIN, the order, the payment insert, COMMIT, the provider's id stored. Payment confirm: the payment
  // by reference, BEGIN, the payment with its order, one statement writing the payment, the order and the
  // outbox row, COMMIT.
  orderCreate: 11,
  paymentInitiate: 6,
  paymentConfirm: 5,
};

describe('queries per request', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let db: DB;
  let app: FastifyInstance;
  let queries = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = openPostgres(database.url, 10, () => {
      queries++;
    });
    db = handle.db;
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url, RATE_LIMIT_ENABLED: 'false', UNDER_PRESSURE_ENABLED: 'false', PAYMENT_PROVIDER: 'fake' });
    // No catalog cache: product lists reach the database on every request. The users auth cache is on, as
    // in production.
    const users = memoryCache();
    const none = noCache();
    const cache: Cache = {
      kind: 'memory',
      lookup: (ns, key) => (ns === USERS_NAMESPACE ? users : none).lookup(ns, key),
      store: (ns, key, generation, value, ttl) => (ns === USERS_NAMESPACE ? users : none).store(ns, key, generation, value, ttl),
      generation: (ns) => (ns === USERS_NAMESPACE ? users : none).generation(ns),
      bump: (...ns) => users.bump(...ns),
    };
    app = await buildApp(config, { db, redis: null, cache, logger: false });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await handle?.close();
    await database?.drop();
  });

  async function user(role: Role): Promise<{ id: string; headers: { authorization: string } }> {
    const id = randomUUID();
    const now = new Date();
    await db.insertInto('users').values({ id, email: `${role}-${id.slice(0, 8)}@example.test`, full_name: 'Counted', password_hash: 'not-a-hash', role, created_at: now, updated_at: now }).execute();
    return { id, headers: { authorization: `Bearer ${app.signAccessToken({ id, role, token_version: 0 })}` } };
  }

  async function vendorWithProducts(count: number): Promise<{ vendorId: string; products: string[] }> {
    const owner = await user('vendor');
    const now = new Date();
    const vendorId = randomUUID();
    const categoryId = randomUUID();
    await db.insertInto('vendors').values({ id: vendorId, user_id: owner.id, business_name: `Vendor ${vendorId.slice(0, 6)}`, created_at: now, updated_at: now }).execute();
    await db.insertInto('categories').values({ id: categoryId, name: 'Counted', slug: `counted-${categoryId.slice(0, 8)}`, created_at: now, updated_at: now }).execute();
    const products = Array.from({ length: count }, () => randomUUID());
    await db
      .insertInto('products')
      .values(products.map((id, i) => ({ id, vendor_id: vendorId, category_id: categoryId, name: `Counted ${i}`, unit_price: 100 + i, stock: 1000, created_at: now, updated_at: now })))
      .execute();
    // Two images per product: their URLs are part of every product view.
    await db
      .insertInto('product_images')
      .values(products.flatMap((id) => [0, 1].map((n) => ({ id: randomUUID(), product_id: id, storage_key: `counted-${id}-${n}.png`, content_type: 'image/png', size_bytes: 10, created_at: now }))))
      .execute();
    return { vendorId, products };
  }

  /** Runs one request and returns how many queries it ran. */
  async function counted(request: { method: 'GET'; url: string; headers?: { authorization: string } }): Promise<number> {
    const before = queries;
    const res = await app.inject(request);
    expect(res.statusCode, res.body).toBe(200);
    return queries - before;
  }

  /** Runs one write (or read) as `as` and returns how many queries it ran, with its answer. */
  async function countedCall(as: { headers: { authorization: string } }, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
    const before = queries;
    const res = await app.inject({ method, url: `/api/v1${url}`, headers: as.headers, ...(payload ? { payload } : {}) });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return { queries: queries - before, status: res.statusCode, body: res.statusCode === 204 ? null : res.json() };
  }

  async function call(as: { headers: { authorization: string } }, method: 'POST' | 'PATCH', url: string, payload?: object) {
    const res = await app.inject({ method, url: `/api/v1${url}`, headers: as.headers, ...(payload ? { payload } : {}) });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json();
  }

  /** Buys each given list of products as one order through the API, paying with the fake provider. */
  async function ordersOf(customer: { headers: { authorization: string } }, orders: string[][]): Promise<string[]> {
    const ids: string[] = [];
    for (const products of orders) {
      for (const product_id of products) await call(customer, 'POST', '/cart-items/', { product_id, quantity: 1 });
      await call(customer, 'PATCH', '/checkout/update/', { shipping_address: ADDRESS });
      await call(customer, 'POST', '/checkout/confirm/');
      const order = await call(customer, 'POST', '/orders/create/');
      const payment = await call(customer, 'POST', '/payments/initiate/', { order_id: order.id });
      await call(customer, 'POST', '/payments/confirm/', { reference: payment.reference });
      ids.push(order.id);
    }
    return ids;
  }

  it('runs the same queries for a product list page of 2 products as of 20, images included', async () => {
    const few = await vendorWithProducts(2);
    const many = await vendorWithProducts(20);
    const small = await counted({ method: 'GET', url: `/api/v1/products/?vendor=${few.vendorId}` });
    const large = await counted({ method: 'GET', url: `/api/v1/products/?vendor=${many.vendorId}` });
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(BUDGET.productList);
  });

  it('runs the same queries for a customer with 2 orders as with 20, in the order list and the payment list', async () => {
    const { products } = await vendorWithProducts(2);
    const few = await user('customer');
    const many = await user('customer');
    await ordersOf(few, Array.from({ length: 2 }, () => products));
    await ordersOf(many, Array.from({ length: 20 }, () => products));

    const ordersSmall = await counted({ method: 'GET', url: '/api/v1/orders/', headers: few.headers });
    const ordersLarge = await counted({ method: 'GET', url: '/api/v1/orders/', headers: many.headers });
    expect(ordersLarge).toBe(ordersSmall);
    expect(ordersLarge).toBeLessThanOrEqual(BUDGET.orderList);

    const paymentsSmall = await counted({ method: 'GET', url: '/api/v1/payments/', headers: few.headers });
    const paymentsLarge = await counted({ method: 'GET', url: '/api/v1/payments/', headers: many.headers });
    expect(paymentsLarge).toBe(paymentsSmall);
    expect(paymentsLarge).toBeLessThanOrEqual(BUDGET.paymentList);
  });

  it('keeps order create, payment initiate and payment confirm within their statement budgets', async () => {
    const { products } = await vendorWithProducts(1);
    const customer = await user('customer');
    await call(customer, 'POST', '/cart-items/', { product_id: products[0], quantity: 1 });
    await call(customer, 'PATCH', '/checkout/update/', { shipping_address: ADDRESS });
    await call(customer, 'POST', '/checkout/confirm/');
    const statementsOf = async (url: string, payload?: object) => {
      const before = queries;
      const body = await call(customer, 'POST', url, payload);
      return { body, statements: queries - before };
    };
    const order = await statementsOf('/orders/create/');
    expect(order.statements).toBeLessThanOrEqual(BUDGET.orderCreate);
    const payment = await statementsOf('/payments/initiate/', { order_id: order.body.id });
    expect(payment.statements).toBeLessThanOrEqual(BUDGET.paymentInitiate);
    const confirmed = await statementsOf('/payments/confirm/', { reference: payment.body.reference });
    expect(confirmed.body.status).toBe('succeeded');
    expect(confirmed.statements).toBeLessThanOrEqual(BUDGET.paymentConfirm);
    // The next purchase starts on the cart the order made.
    expect((await statementsOf('/cart-items/', { product_id: products[0], quantity: 1 })).statements).toBeLessThanOrEqual(BUDGET.cartWrite);
  });

  it('runs the same queries for an order of 2 lines as of 20, and for a cart of 2 lines as of 20', async () => {
    const { products } = await vendorWithProducts(20);
    const few = await user('customer');
    const many = await user('customer');
    const [small] = await ordersOf(few, [products.slice(0, 2)]);
    const [large] = await ordersOf(many, [products]);
    const detailSmall = await counted({ method: 'GET', url: `/api/v1/orders/${small}/`, headers: few.headers });
    const detailLarge = await counted({ method: 'GET', url: `/api/v1/orders/${large}/`, headers: many.headers });
    expect(detailLarge).toBe(detailSmall);
    expect(detailLarge).toBeLessThanOrEqual(BUDGET.orderDetail);

    for (const product_id of products.slice(0, 2)) await call(few, 'POST', '/cart-items/', { product_id, quantity: 1 });
    for (const product_id of products) await call(many, 'POST', '/cart-items/', { product_id, quantity: 1 });
    const cartSmall = await counted({ method: 'GET', url: '/api/v1/cart/', headers: few.headers });
    const cartLarge = await counted({ method: 'GET', url: '/api/v1/cart/', headers: many.headers });
    expect(cartLarge).toBe(cartSmall);
    expect(cartLarge).toBeLessThanOrEqual(BUDGET.cart);
  });

  it('runs a budgeted number of queries for each cart and checkout write, the first one that makes the cart included', async () => {
    const { products } = await vendorWithProducts(2);
    const customer = await user('customer');
    // The caller's first request reads its users row (not counted here); it makes no cart.
    await countedCall(customer, 'GET', '/orders/');

    const made = await countedCall(customer, 'POST', '/cart-items/', { product_id: products[0], quantity: 1 });
    expect(made.status).toBe(201);
    expect(made.queries).toBeLessThanOrEqual(BUDGET.firstCartWrite);
    const added = await countedCall(customer, 'POST', '/cart-items/', { product_id: products[1], quantity: 1 });
    expect(added.status).toBe(201);
    expect(added.queries).toBeLessThanOrEqual(BUDGET.cartWrite);
    const merged = await countedCall(customer, 'POST', '/cart-items/', { product_id: products[1], quantity: 1 });
    expect(merged.status).toBe(200);
    expect(merged.queries).toBeLessThanOrEqual(BUDGET.cartWrite);
    expect((await countedCall(customer, 'PATCH', `/cart-items/${added.body.id}/`, { quantity: 3 })).queries).toBeLessThanOrEqual(BUDGET.cartWrite);
    expect((await countedCall(customer, 'DELETE', `/cart-items/${added.body.id}/`)).queries).toBeLessThanOrEqual(BUDGET.cartWrite);
    expect((await countedCall(customer, 'GET', '/cart/')).queries).toBeLessThanOrEqual(BUDGET.cart);

    // The checkout was made with the cart: its first update finds it.
    expect((await countedCall(customer, 'PATCH', '/checkout/update/', { shipping_address: ADDRESS })).queries).toBeLessThanOrEqual(BUDGET.checkoutWrite);
    expect((await countedCall(customer, 'PATCH', '/checkout/update/', { contact_phone: '+15550100' })).queries).toBeLessThanOrEqual(BUDGET.checkoutWrite);
    expect((await countedCall(customer, 'POST', '/checkout/confirm/')).queries).toBeLessThanOrEqual(BUDGET.checkoutWrite);
    expect((await countedCall(customer, 'GET', '/checkout/')).queries).toBeLessThanOrEqual(BUDGET.checkout);
    expect((await countedCall(customer, 'POST', '/checkout/cancel/')).queries).toBeLessThanOrEqual(BUDGET.checkoutWrite);
  });
});

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS, commerceContext, confirmedCheckout, createProduct, stockOf, type Catalog } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';

describe('Idempotency-Key on checkout confirm and order create', () => {
  let ctx: TestContext;
  let catalog: Catalog;

  beforeAll(async () => {
    ({ ctx, catalog } = await commerceContext());
  });
  afterAll(() => ctx.close());

  const post = (url: string, as: TestUser, key?: string, payload?: object) =>
    ctx.request({ method: 'POST', url, as, headers: key ? { 'idempotency-key': key } : {}, ...(payload ? { payload } : {}) });

  it('replays the first order creation with the same status and body and Idempotent-Replayed: true, making one order', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    await confirmedCheckout(ctx, customer, [{ product_id: product.id, quantity: 2 }]);
    const first = await post('/api/v1/orders/create/', customer, 'order-key-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const second = await post('/api/v1/orders/create/', customer, 'order-key-1', {});
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toHaveLength(1);
    expect(await stockOf(ctx.db, product.id)).toBe(3);
    // Without the key the request is a new one: there is no confirmed checkout any more.
    expect((await post('/api/v1/orders/create/', customer)).json().code).toBe('checkout_not_confirmed');
  });

  it('replays a confirm, refusals included, and answers 422 idempotency_key_reused for the same key on another request', async () => {
    const customer = await ctx.user('customer');
    const empty = await post('/api/v1/checkout/confirm/', customer, 'confirm-key');
    expect(empty.statusCode).toBe(409);
    expect(empty.json().code).toBe('cart_empty');
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: product.id, quantity: 1 }, as: customer });
    await ctx.request({ method: 'PATCH', url: '/api/v1/checkout/update/', payload: { shipping_address: ADDRESS }, as: customer });
    const replayed = await post('/api/v1/checkout/confirm/', customer, 'confirm-key');
    expect(replayed.statusCode).toBe(409);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(replayed.json()).toEqual(empty.json());

    const confirmed = await post('/api/v1/checkout/confirm/', customer, 'confirm-key-2');
    expect(confirmed.statusCode).toBe(200);
    const reused = await post('/api/v1/orders/create/', customer, 'confirm-key-2');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toEqual([]);
    expect(await stockOf(ctx.db, product.id)).toBe(5);
  });

  it("treats the same key from another user as independent", async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    const one = await ctx.user('customer');
    const two = await ctx.user('customer');
    await confirmedCheckout(ctx, one, [{ product_id: product.id, quantity: 1 }]);
    await confirmedCheckout(ctx, two, [{ product_id: product.id, quantity: 2 }]);
    const a = await post('/api/v1/orders/create/', one, 'shared-key');
    const b = await post('/api/v1/orders/create/', two, 'shared-key');
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json().id).not.toBe(a.json().id);
    expect(b.json().customer_id).toBe(two.id);
    expect(await stockOf(ctx.db, product.id)).toBe(2);
  });

  it('answers 409 idempotency_request_in_flight while a request with the key is running', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    await confirmedCheckout(ctx, customer, [{ product_id: product.id, quantity: 1 }]);
    // Hold the key's in-flight lock as a running request would.
    await ctx.db.connection().execute(async (conn) => {
      await sql`SELECT pg_advisory_lock(hashtextextended(${`idempotency:${customer.id}:busy-key`}, 0))`.execute(conn);
      try {
        const res = await post('/api/v1/orders/create/', customer, 'busy-key');
        expect(res.statusCode).toBe(409);
        expect(res.json().code).toBe('idempotency_request_in_flight');
      } finally {
        await sql`SELECT pg_advisory_unlock(hashtextextended(${`idempotency:${customer.id}:busy-key`}, 0))`.execute(conn);
      }
    });
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toEqual([]);
    // Not stored: once the first is done, the key works.
    const res = await post('/api/v1/orders/create/', customer, 'busy-key');
    expect(res.statusCode).toBe(201);
  });

  it('validates the key: empty or non-printable is 400', async () => {
    const customer = await ctx.user('customer');
    expect((await post('/api/v1/checkout/confirm/', customer, 'x'.repeat(256))).statusCode).toBe(400);
    // Printable means printable ASCII, the space included (API.md: 1–255 printable characters).
    expect((await post('/api/v1/checkout/confirm/', customer, 'has space')).statusCode).not.toBe(400);
    expect((await ctx.request({ method: 'POST', url: '/api/v1/checkout/confirm/', headers: { 'idempotency-key': 'has\ttab' }, as: customer })).statusCode).toBe(400);
  });
});

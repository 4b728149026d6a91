import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commerceContext, confirmedCheckout, createProduct, createVendor, type Catalog } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';

describe('cart', () => {
  let ctx: TestContext;
  let catalog: Catalog;

  beforeAll(async () => {
    ({ ctx, catalog } = await commerceContext());
  });
  afterAll(() => ctx.close());

  const getCart = (as: TestUser) => ctx.request({ method: 'GET', url: '/api/v1/cart/', as });
  const add = (as: TestUser, product_id: string, quantity: number) => ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id, quantity }, as });

  it('creates the one active cart on first access, empty', async () => {
    const customer = await ctx.user('customer');
    const res = await getCart(customer);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({ id: expect.any(String), status: 'active', items: [], item_count: 0, subtotal: 0, currency: 'USD' });
    expect((await getCart(customer)).json().id).toBe(body.id);
    const rows = await ctx.db.selectFrom('carts').selectAll().where('customer_id', '=', customer.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('gives one cart to two first accesses at once', async () => {
    const customer = await ctx.user('customer');
    const answers = await Promise.all(Array.from({ length: 8 }, () => getCart(customer)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(await ctx.db.selectFrom('carts').select('id').where('customer_id', '=', customer.id).execute()).toHaveLength(1);
  });

  it('gives one cart to several first adds at once, every line landing in it', async () => {
    const customer = await ctx.user('customer');
    const products = await Promise.all(Array.from({ length: 6 }, () => createProduct(ctx.db, catalog, { unit_price: 100, stock: 10 })));
    const answers = await Promise.all(products.map((p) => add(customer, p.id, 1)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(201));
    const carts = await ctx.db.selectFrom('carts').select('id').where('customer_id', '=', customer.id).execute();
    expect(carts).toHaveLength(1);
    const lines = await ctx.db.selectFrom('cart_items').select('product_id').where('cart_id', '=', carts[0]!.id).execute();
    expect(lines.map((l) => l.product_id).sort()).toEqual(products.map((p) => p.id).sort());
  });

  it('adds a new line with 201 and merges the same product with 200, quantities added', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 1999, stock: 10 });
    const first = await add(customer, product.id, 2);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ id: expect.any(String), product_id: product.id, name: product.name, unit_price: 1999, quantity: 2, line_total: 3998 });
    const second = await add(customer, product.id, 3);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ id: first.json().id, quantity: 5, line_total: 9995 });
    const cart = (await getCart(customer)).json();
    expect(cart.items).toHaveLength(1);
    expect(cart).toMatchObject({ item_count: 5, subtotal: 9995 });
    const rows = await ctx.db.selectFrom('cart_items').selectAll().where('cart_id', '=', cart.id).execute();
    expect(rows.map((r) => r.quantity)).toEqual([5]);
  });

  it('counts units in item_count and sums line totals in subtotal', async () => {
    const customer = await ctx.user('customer');
    const a = await createProduct(ctx.db, catalog, { unit_price: 100, stock: 10 });
    const b = await createProduct(ctx.db, catalog, { unit_price: 250, stock: 10 });
    await add(customer, a.id, 3);
    await add(customer, b.id, 2);
    expect((await getCart(customer)).json()).toMatchObject({ item_count: 5, subtotal: 800 });
  });

  it('keeps exact integer totals at the largest price: 999 units of a 10^9 product give 200, never 500', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 1_000_000_000, stock: 2000 });
    const added = await add(customer, product.id, 999);
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ unit_price: 1_000_000_000, quantity: 999, line_total: 999_000_000_000 });
    const cart = await getCart(customer);
    expect(cart.statusCode).toBe(200);
    expect(cart.json()).toMatchObject({ item_count: 999, subtotal: 999_000_000_000 });
    const checkout = await ctx.request({ method: 'GET', url: '/api/v1/checkout/', as: customer });
    expect(checkout.statusCode).toBe(200);
    expect(checkout.json()).toMatchObject({ subtotal: 999_000_000_000, total: 999_000_000_000 });
  });

  it('refuses a vendor price that would make a customer cart unsafe, so the cart keeps answering 200', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 100, stock: 10 });
    expect((await add(customer, product.id, 3)).statusCode).toBe(201);
    const patch = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${product.id}/`, payload: { unit_price: Number.MAX_SAFE_INTEGER }, as: catalog.vendorUser });
    expect(patch.statusCode).toBe(400);
    expect(patch.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: 'unit_price' })] });
    const cart = await getCart(customer);
    expect(cart.statusCode).toBe(200);
    expect(cart.json()).toMatchObject({ subtotal: 300 });
    expect((await ctx.request({ method: 'GET', url: '/api/v1/checkout/', as: customer })).statusCode).toBe(200);
    expect((await add(customer, product.id, 3)).statusCode).toBe(200);
  });

  it('holds at most 100 different products: a 101st is 400 validation_failed at product_id, merging still works', async () => {
    const customer = await ctx.user('customer');
    const products = await Promise.all(Array.from({ length: 101 }, () => createProduct(ctx.db, catalog, { unit_price: 1_000_000_000, stock: 999 })));
    const cartId = (await getCart(customer)).json().id;
    const now = new Date();
    await ctx.db
      .insertInto('cart_items')
      .values(products.slice(0, 99).map((p) => ({ id: randomUUID(), cart_id: cartId, product_id: p.id, quantity: 999, created_at: now, updated_at: now })))
      .execute();
    expect((await add(customer, products[99]!.id, 999)).statusCode).toBe(201);
    const refused = await add(customer, products[100]!.id, 1);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: 'product_id' })] });
    expect(await ctx.db.selectFrom('cart_items').select('id').where('cart_id', '=', cartId).execute()).toHaveLength(100);
    expect((await ctx.db.selectFrom('cart_items').select('id').where('product_id', '=', products[100]!.id).execute())).toEqual([]);
    expect((await add(customer, products[0]!.id, 0)).statusCode).toBe(400);
    const full = await getCart(customer);
    expect(full.statusCode).toBe(200);
    expect(full.json()).toMatchObject({ item_count: 99_900, subtotal: 99_900_000_000_000 });
    const checkout = await ctx.request({ method: 'GET', url: '/api/v1/checkout/', as: customer });
    expect(checkout.statusCode).toBe(200);
    expect(checkout.json()).toMatchObject({ subtotal: 99_900_000_000_000, total: 99_900_000_000_000 });
  });

  it('refuses a quantity over stock, including a merged one, with 409 insufficient_stock and items', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 4 });
    const over = await add(customer, product.id, 5);
    expect(over.statusCode).toBe(409);
    expect(over.json()).toMatchObject({ code: 'insufficient_stock', items: [{ product_id: product.id, requested: 5, available: 4 }] });
    expect(over.json().detail).toContain(product.name);
    expect((await add(customer, product.id, 3)).statusCode).toBe(201);
    const merged = await add(customer, product.id, 2);
    expect(merged.statusCode).toBe(409);
    expect(merged.json()).toMatchObject({ code: 'insufficient_stock', items: [{ requested: 5, available: 4 }] });
    const cart = (await getCart(customer)).json();
    expect(cart.items[0].quantity).toBe(3);
  });

  it('refuses a merged quantity over 999 with 400 validation_failed', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 5000 });
    expect((await add(customer, product.id, 999)).statusCode).toBe(201);
    const res = await add(customer, product.id, 1);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'quantity' }] });
  });

  it('validates quantity 1-999 and refuses unknown fields', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog);
    for (const quantity of [0, -1, 1000, 1.5]) expect((await add(customer, product.id, quantity)).statusCode, String(quantity)).toBe(400);
    const smuggle = await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: product.id, quantity: 1, unit_price: 1 }, as: customer });
    expect(smuggle.statusCode).toBe(400);
    expect(smuggle.json().errors).toEqual([{ path: 'unit_price', message: 'Unknown field' }]);
  });

  it('answers 404 for an unknown product and 409 product_unavailable for inactive, deleted or inactive-vendor products', async () => {
    const customer = await ctx.user('customer');
    const unknown = await add(customer, '00000000-0000-4000-8000-000000000000', 1);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('not_found');
    const inactive = await createProduct(ctx.db, catalog, { is_active: false });
    const deleted = await createProduct(ctx.db, catalog, { deleted: true });
    const closedVendor = await createVendor(ctx, { is_active: false });
    const ofClosedVendor = await createProduct(ctx.db, closedVendor);
    for (const p of [inactive, deleted, ofClosedVendor]) {
      const res = await add(customer, p.id, 1);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('product_unavailable');
    }
    expect((await getCart(customer)).json().items).toEqual([]);
  });

  it('changes a quantity with PATCH and removes a line with DELETE', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 300, stock: 10 });
    const item = (await add(customer, product.id, 1)).json();
    const patched = await ctx.request({ method: 'PATCH', url: `/api/v1/cart-items/${item.id}/`, payload: { quantity: 7 }, as: customer });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: item.id, quantity: 7, line_total: 2100 });
    const over = await ctx.request({ method: 'PATCH', url: `/api/v1/cart-items/${item.id}/`, payload: { quantity: 11 }, as: customer });
    expect(over.statusCode).toBe(409);
    expect(over.json().code).toBe('insufficient_stock');
    const del = await ctx.request({ method: 'DELETE', url: `/api/v1/cart-items/${item.id}`, as: customer });
    expect(del.statusCode).toBe(204);
    expect(await ctx.db.selectFrom('cart_items').select('id').where('id', '=', item.id).execute()).toEqual([]);
    const again = await ctx.request({ method: 'DELETE', url: `/api/v1/cart-items/${item.id}/`, as: customer });
    expect(again.statusCode).toBe(404);
  });

  it("answers 404 for another customer's cart item and leaves it alone", async () => {
    const owner = await ctx.user('customer');
    const other = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog);
    const item = (await add(owner, product.id, 2)).json();
    const patch = await ctx.request({ method: 'PATCH', url: `/api/v1/cart-items/${item.id}/`, payload: { quantity: 1 }, as: other });
    expect(patch.statusCode).toBe(404);
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/cart-items/${item.id}/`, as: other })).statusCode).toBe(404);
    const row = await ctx.db.selectFrom('cart_items').select('quantity').where('id', '=', item.id).executeTakeFirstOrThrow();
    expect(row.quantity).toBe(2);
  });

  it('refuses vendors and admins with 403 and anonymous callers with 401 on every cart route', async () => {
    const product = await createProduct(ctx.db, catalog);
    const id = '00000000-0000-4000-8000-000000000001';
    for (const role of ['vendor', 'admin'] as const) {
      const user = await ctx.user(role);
      expect((await getCart(user)).statusCode).toBe(403);
      expect((await add(user, product.id, 1)).statusCode).toBe(403);
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/cart-items/${id}/`, payload: { quantity: 1 }, as: user })).statusCode).toBe(403);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/cart-items/${id}/`, as: user })).statusCode).toBe(403);
    }
    expect((await ctx.request({ method: 'GET', url: '/api/v1/cart/' })).statusCode).toBe(401);
    expect(await ctx.db.selectFrom('carts').select('carts.id').innerJoin('users', 'users.id', 'carts.customer_id').where('users.role', '<>', 'customer').execute()).toEqual([]);
  });

  it('freezes the cart while the checkout is confirmed: every edit is 409 cart_frozen', async () => {
    const customer = await ctx.user('customer');
    const a = await createProduct(ctx.db, catalog, { stock: 10 });
    const b = await createProduct(ctx.db, catalog, { stock: 10 });
    await confirmedCheckout(ctx, customer, [{ product_id: a.id, quantity: 2 }]);
    const cart = (await getCart(customer)).json();
    expect(cart.status).toBe('frozen');
    const itemId = cart.items[0].id;
    const attempts = [
      await add(customer, b.id, 1),
      await add(customer, a.id, 1),
      await ctx.request({ method: 'PATCH', url: `/api/v1/cart-items/${itemId}/`, payload: { quantity: 3 }, as: customer }),
      await ctx.request({ method: 'DELETE', url: `/api/v1/cart-items/${itemId}/`, as: customer }),
    ];
    for (const res of attempts) {
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('cart_frozen');
    }
    const rows = await ctx.db.selectFrom('cart_items').select(['product_id', 'quantity']).where('cart_id', '=', cart.id).execute();
    expect(rows).toEqual([{ product_id: a.id, quantity: 2 }]);
  });

  it('lets an edit through after the confirmation expired, which reopens the checkout', async () => {
    const customer = await ctx.user('customer');
    const a = await createProduct(ctx.db, catalog, { stock: 10 });
    await confirmedCheckout(ctx, customer, [{ product_id: a.id, quantity: 2 }]);
    ctx.clock.set(new Date(Date.now() + (ctx.config.CHECKOUT_TTL_SECONDS + 1) * 1000));
    try {
      expect((await getCart(customer)).json().status).toBe('active');
      expect((await add(customer, a.id, 1)).statusCode).toBe(200);
      const checkout = (await ctx.request({ method: 'GET', url: '/api/v1/checkout/', as: customer })).json();
      expect(checkout).toMatchObject({ status: 'open', confirmed_at: null, expires_at: null });
      const row = await ctx.db.selectFrom('checkouts').select(['status', 'frozen_items']).where('id', '=', checkout.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'open', frozen_items: null });
    } finally {
      ctx.clock.real();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDRESS, commerceContext, createProduct, type Catalog } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';

describe('checkout', () => {
  let ctx: TestContext;
  let catalog: Catalog;

  beforeAll(async () => {
    ({ ctx, catalog } = await commerceContext());
  });
  afterAll(() => ctx.close());

  const get = (as: TestUser) => ctx.request({ method: 'GET', url: '/api/v1/checkout/', as });
  const update = (as: TestUser, payload: object) => ctx.request({ method: 'PATCH', url: '/api/v1/checkout/update/', payload, as });
  const confirm = (as: TestUser, headers: Record<string, string> = {}) => ctx.request({ method: 'POST', url: '/api/v1/checkout/confirm/', headers, as });
  const cancel = (as: TestUser) => ctx.request({ method: 'POST', url: '/api/v1/checkout/cancel/', as });
  const add = (as: TestUser, product_id: string, quantity: number) => ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id, quantity }, as });
  const afterTtl = () => new Date(Date.now() + (ctx.config.CHECKOUT_TTL_SECONDS + 5) * 1000);

  it('creates an open checkout on first access showing cart_empty and checkout_incomplete problems', async () => {
    const customer = await ctx.user('customer');
    const res = await get(customer);
    expect(res.statusCode).toBe(200);
    const cart = (await ctx.request({ method: 'GET', url: '/api/v1/cart/', as: customer })).json();
    expect(res.json()).toEqual({
      id: expect.any(String),
      cart_id: cart.id,
      status: 'open',
      items: [],
      subtotal: 0,
      total: 0,
      currency: 'USD',
      shipping_address: null,
      contact_phone: null,
      problems: [
        { code: 'cart_empty', product_id: null, detail: expect.any(String) },
        { code: 'checkout_incomplete', product_id: null, detail: expect.any(String) },
      ],
      confirmed_at: null,
      expires_at: null,
    });
    expect((await get(customer)).json().id).toBe(res.json().id);
    expect(await ctx.db.selectFrom('checkouts').select('id').where('customer_id', '=', customer.id).execute()).toHaveLength(1);
  });

  it('gives one cart and one checkout to several first accesses at once', async () => {
    const customer = await ctx.user('customer');
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(customer)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    expect(await ctx.db.selectFrom('checkouts').select('id').where('customer_id', '=', customer.id).execute()).toHaveLength(1);
    expect(await ctx.db.selectFrom('carts').select('id').where('customer_id', '=', customer.id).execute()).toHaveLength(1);
  });

  it('makes one checkout for several first updates at once, each answered with the checkout it made or found', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 500, stock: 5 });
    expect((await add(customer, product.id, 1)).statusCode).toBe(201);
    const phones = Array.from({ length: 6 }, (_, i) => `+1 555 010${i}`);
    const answers = await Promise.all(phones.map((contact_phone) => update(customer, { shipping_address: ADDRESS, contact_phone })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    const rows = await ctx.db.selectFrom('checkouts').select(['id', 'contact_phone']).where('customer_id', '=', customer.id).execute();
    expect(rows).toHaveLength(1);
    expect(phones).toContain(rows[0]!.contact_phone);
  });

  it('shows the live items and per-product problems while open', async () => {
    const customer = await ctx.user('customer');
    const a = await createProduct(ctx.db, catalog, { unit_price: 500, stock: 5 });
    const b = await createProduct(ctx.db, catalog, { unit_price: 700, stock: 5 });
    await add(customer, a.id, 2);
    await add(customer, b.id, 3);
    await ctx.db.updateTable('products').set({ is_active: false }).where('id', '=', a.id).execute();
    await ctx.db.updateTable('products').set({ stock: 1 }).where('id', '=', b.id).execute();
    await update(customer, { shipping_address: ADDRESS });
    const body = (await get(customer)).json();
    expect(body.items).toEqual([
      { product_id: a.id, name: a.name, unit_price: 500, quantity: 2, line_total: 1000 },
      { product_id: b.id, name: b.name, unit_price: 700, quantity: 3, line_total: 2100 },
    ]);
    expect(body).toMatchObject({ subtotal: 3100, total: 3100 });
    expect(body.problems).toEqual([
      { code: 'product_unavailable', product_id: a.id, detail: expect.any(String) },
      { code: 'insufficient_stock', product_id: b.id, detail: expect.any(String) },
    ]);
  });

  it('sets the shipping address and contact phone, validating the country and refusing unknown fields', async () => {
    const customer = await ctx.user('customer');
    const res = await update(customer, { shipping_address: { ...ADDRESS, line2: 'Flat 2' }, contact_phone: '+1 555 0100' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ shipping_address: { ...ADDRESS, line2: 'Flat 2' }, contact_phone: '+1 555 0100' });
    expect((await update(customer, { shipping_address: { ...ADDRESS, country: 'usa' } })).statusCode).toBe(400);
    expect((await update(customer, { shipping_address: { city: 'x' } })).statusCode).toBe(400);
    expect((await update(customer, { status: 'confirmed' })).statusCode).toBe(400);
    const row = await ctx.db.selectFrom('checkouts').select(['shipping_address', 'status']).where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ shipping_address: { ...ADDRESS, line2: 'Flat 2' }, status: 'open' });
  });

  it('refuses a country that is not an assigned ISO 3166-1 alpha-2 code with 400 at shipping_address.country, keeping the address', async () => {
    const customer = await ctx.user('customer');
    expect((await update(customer, { shipping_address: { ...ADDRESS, country: 'NG' } })).statusCode).toBe(200);
    for (const country of ['ZZ', 'XK', 'EU', 'UK', 'AA', 'us', 'USA']) {
      const res = await update(customer, { shipping_address: { ...ADDRESS, country } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: 'shipping_address.country' })] });
    }
    const row = await ctx.db.selectFrom('checkouts').select('shipping_address').where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
    expect(row.shipping_address).toEqual({ ...ADDRESS, country: 'NG' });
    for (const country of ['DE', 'GB', 'AX']) expect((await update(customer, { shipping_address: { ...ADDRESS, country } })).statusCode).toBe(200);
  });

  it('refuses to confirm an empty cart (cart_empty) and a checkout without address (checkout_incomplete)', async () => {
    const customer = await ctx.user('customer');
    const empty = await confirm(customer);
    expect(empty.statusCode).toBe(409);
    expect(empty.json().code).toBe('cart_empty');
    const product = await createProduct(ctx.db, catalog);
    await add(customer, product.id, 1);
    const incomplete = await confirm(customer);
    expect(incomplete.statusCode).toBe(409);
    expect(incomplete.json().code).toBe('checkout_incomplete');
    expect((await get(customer)).json().status).toBe('open');
    expect(await ctx.db.selectFrom('checkouts').select('status').where('customer_id', '=', customer.id).execute()).toEqual([{ status: 'open' }]);
  });

  it('refuses to confirm with product_unavailable or insufficient_stock', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    await add(customer, product.id, 3);
    await update(customer, { shipping_address: ADDRESS });
    await ctx.db.updateTable('products').set({ stock: 2 }).where('id', '=', product.id).execute();
    const short = await confirm(customer);
    expect(short.statusCode).toBe(409);
    expect(short.json()).toMatchObject({ code: 'insufficient_stock', items: [{ product_id: product.id, requested: 3, available: 2 }] });
    await ctx.db.updateTable('vendors').set({ is_active: false }).where('id', '=', catalog.vendorId).execute();
    try {
      const gone = await confirm(customer);
      expect(gone.statusCode).toBe(409);
      expect(gone.json()).toMatchObject({ code: 'product_unavailable', product_id: product.id });
    } finally {
      await ctx.db.updateTable('vendors').set({ is_active: true }).where('id', '=', catalog.vendorId).execute();
    }
  });

  it('confirms with the items and prices frozen and expires_at after the TTL; a second confirm returns it unchanged', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 1500, stock: 5 });
    await add(customer, product.id, 2);
    await update(customer, { shipping_address: ADDRESS });
    const first = await confirm(customer);
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toMatchObject({ status: 'confirmed', subtotal: 3000, total: 3000, problems: [] });
    expect(body.items).toEqual([{ product_id: product.id, name: product.name, unit_price: 1500, quantity: 2, line_total: 3000 }]);
    expect(new Date(body.expires_at).getTime() - new Date(body.confirmed_at).getTime()).toBe(ctx.config.CHECKOUT_TTL_SECONDS * 1000);

    // A later price change does not touch the frozen checkout.
    await ctx.db.updateTable('products').set({ unit_price: 9999, name: 'Renamed' }).where('id', '=', product.id).execute();
    const again = await confirm(customer);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
    expect((await get(customer)).json()).toEqual(body);
    const row = await ctx.db.selectFrom('checkouts').select(['status', 'frozen_items', 'total']).where('id', '=', body.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'confirmed', total: 3000, frozen_items: [{ product_id: product.id, vendor_id: catalog.vendorId, name: product.name, unit_price: 1500, quantity: 2, line_total: 3000 }] });
    expect((await ctx.request({ method: 'GET', url: '/api/v1/cart/', as: customer })).json()).toMatchObject({ status: 'frozen', subtotal: 3000 });
  });

  it('refuses an update while confirmed with 409 checkout_not_open; cancel reopens and the cart is editable again', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    await add(customer, product.id, 1);
    await update(customer, { shipping_address: ADDRESS });
    expect((await confirm(customer)).statusCode).toBe(200);
    const refused = await update(customer, { contact_phone: '12345' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('checkout_not_open');
    const cancelled = await cancel(customer);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'open', confirmed_at: null, expires_at: null, problems: [] });
    expect((await add(customer, product.id, 1)).statusCode).toBe(200);
    expect((await update(customer, { contact_phone: '12345' })).statusCode).toBe(200);
    const row = await ctx.db.selectFrom('checkouts').select(['status', 'frozen_items']).where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'open', frozen_items: null });
  });

  it('shows a confirmed checkout past expires_at as expired without any job; update reopens it and confirm confirms anew', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { unit_price: 800, stock: 5 });
    await add(customer, product.id, 2);
    await update(customer, { shipping_address: ADDRESS });
    const first = (await confirm(customer)).json();
    ctx.clock.set(afterTtl());
    try {
      const expired = (await get(customer)).json();
      expect(expired.status).toBe('expired');
      expect((await ctx.request({ method: 'GET', url: '/api/v1/cart/', as: customer })).json().status).toBe('active');
      await ctx.db.updateTable('products').set({ unit_price: 900 }).where('id', '=', product.id).execute();
      const reconfirmed = await confirm(customer);
      expect(reconfirmed.statusCode).toBe(200);
      expect(reconfirmed.json()).toMatchObject({ status: 'confirmed', subtotal: 1800 });
      expect(new Date(reconfirmed.json().expires_at).getTime()).toBeGreaterThan(new Date(first.expires_at).getTime());
      ctx.clock.advance((ctx.config.CHECKOUT_TTL_SECONDS + 5) * 1000);
      const reopened = await update(customer, { contact_phone: '555' });
      expect(reopened.statusCode).toBe(200);
      expect(reopened.json()).toMatchObject({ status: 'open', expires_at: null });
    } finally {
      ctx.clock.real();
    }
  });

  it('refuses vendors and admins with 403 on every checkout route', async () => {
    for (const role of ['vendor', 'admin'] as const) {
      const user = await ctx.user(role);
      expect((await get(user)).statusCode).toBe(403);
      expect((await update(user, { contact_phone: '555' })).statusCode).toBe(403);
      expect((await confirm(user)).statusCode).toBe(403);
      expect((await cancel(user)).statusCode).toBe(403);
    }
    expect((await ctx.request({ method: 'POST', url: '/api/v1/checkout/confirm/' })).statusCode).toBe(401);
  });

  it('accepts no body, an empty body or {} on confirm and cancel, and nothing else', async () => {
    const customer = await ctx.user('customer');
    expect((await ctx.request({ method: 'POST', url: '/api/v1/checkout/cancel/', payload: {}, as: customer })).statusCode).toBe(200);
    expect((await ctx.request({ method: 'POST', url: '/api/v1/checkout/cancel/', headers: { 'content-type': 'application/json' }, payload: '', as: customer })).statusCode).toBe(200);
    expect((await ctx.request({ method: 'POST', url: '/api/v1/checkout/confirm/', payload: { total: 1 }, as: customer })).statusCode).toBe(400);
  });
});

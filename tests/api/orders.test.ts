import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../shell/cache.js';
import { cancelOrder, createOrder, expireOverdueOrders } from '../../shell/services/orders.js';
import { ADDRESS, commerceContext, confirmedCheckout, createProduct, createVendor, stockOf, type Catalog } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';

describe('orders', () => {
  let ctx: TestContext;
  let catalog: Catalog;
  const cache = memoryCache();

  beforeAll(async () => {
    ({ ctx, catalog } = await commerceContext({ deps: { cache } }));
  });
  afterAll(() => ctx.close());

  const create = (as: TestUser) => ctx.request({ method: 'POST', url: '/api/v1/orders/create/', payload: {}, as });
  const cancel = (as: TestUser, id: string) => ctx.request({ method: 'POST', url: `/api/v1/orders/${id}/cancel/`, as });
  const getOrder = (as: TestUser, id: string) => ctx.request({ method: 'GET', url: `/api/v1/orders/${id}/`, as });
  const list = (as: TestUser, query = '') => ctx.request({ method: 'GET', url: `/api/v1/orders/${query}`, as });
  const initiate = (as: TestUser, orderId: string) => ctx.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: orderId }, as });
  const confirmPayment = (as: TestUser, reference: string) => ctx.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference }, as });
  const paymentRows = (orderId: string) => ctx.db.selectFrom('payments').selectAll().where('order_id', '=', orderId).execute();

  /** A customer with an order of the given lines; returns the order body. */
  async function orderOf(customer: TestUser, lines: { product_id: string; quantity: number }[]) {
    await confirmedCheckout(ctx, customer, lines);
    const res = await create(customer);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  it('makes the order from the confirmed checkout: frozen prices, stock taken, checkout completed, cart closed', async () => {
    const customer = await ctx.user('customer');
    const a = await createProduct(ctx.db, catalog, { unit_price: 1250, stock: 10 });
    const b = await createProduct(ctx.db, catalog, { unit_price: 399, stock: 3 });
    await confirmedCheckout(ctx, customer, [
      { product_id: a.id, quantity: 2 },
      { product_id: b.id, quantity: 3 },
    ]);
    const checkout = (await ctx.request({ method: 'GET', url: '/api/v1/checkout/', as: customer })).json();
    // A price change after confirmation does not reach the order.
    await ctx.db.updateTable('products').set({ unit_price: 5000 }).where('id', '=', a.id).execute();
    const generation = await cache.generation('products');
    ctx.clock.set(new Date());
    const now = ctx.clock.now();
    let res;
    try {
      res = await create(customer);
    } finally {
      ctx.clock.real();
    }
    expect(res.statusCode).toBe(201);
    const order = res.json();
    expect(order).toEqual({
      id: expect.any(String),
      number: expect.any(Number),
      customer_id: customer.id,
      status: 'pending_payment',
      items: expect.any(Array),
      subtotal: 3697,
      total: 3697,
      currency: 'USD',
      shipping_address: ADDRESS,
      created_at: now.toISOString(),
      payment_due_by: new Date(now.getTime() + ctx.config.PAYMENT_DUE_SECONDS * 1000).toISOString(),
      paid_at: null,
      refunded_at: null,
    });
    expect(order.number).toBeGreaterThanOrEqual(1000);
    expect(order.total).toBe(checkout.total);
    expect(order.items).toHaveLength(2);
    expect(order.items).toEqual(
      expect.arrayContaining([
        { id: expect.any(String), product_id: a.id, vendor_id: catalog.vendorId, name: a.name, unit_price: 1250, quantity: 2, line_total: 2500 },
        { id: expect.any(String), product_id: b.id, vendor_id: catalog.vendorId, name: b.name, unit_price: 399, quantity: 3, line_total: 1197 },
      ]),
    );
    expect(await stockOf(ctx.db, a.id)).toBe(8);
    expect(await stockOf(ctx.db, b.id)).toBe(0);
    expect(await cache.generation('products')).toBeGreaterThan(generation);

    const rows = await ctx.db.selectFrom('order_items').select(['product_id', 'unit_price', 'quantity', 'line_total']).where('order_id', '=', order.id).orderBy('line_total').execute();
    expect(rows).toEqual([
      { product_id: b.id, unit_price: 399, quantity: 3, line_total: 1197 },
      { product_id: a.id, unit_price: 1250, quantity: 2, line_total: 2500 },
    ]);
    expect((await ctx.db.selectFrom('checkouts').select('status').where('id', '=', checkout.id).executeTakeFirstOrThrow()).status).toBe('completed');
    expect((await ctx.db.selectFrom('carts').select('status').where('id', '=', checkout.cart_id).executeTakeFirstOrThrow()).status).toBe('closed');
    const next = (await ctx.request({ method: 'GET', url: '/api/v1/cart/', as: customer })).json();
    expect(next).toMatchObject({ status: 'active', items: [], item_count: 0 });
    expect(next.id).not.toBe(checkout.cart_id);
  });

  it('numbers orders sequentially', async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 10 });
    const first = await orderOf(await ctx.user('customer'), [{ product_id: product.id, quantity: 1 }]);
    const second = await orderOf(await ctx.user('customer'), [{ product_id: product.id, quantity: 1 }]);
    expect(second.number).toBe(first.number + 1);
  });

  it('refuses a second order from the same checkout (checkout_not_confirmed) and an order without confirmation', async () => {
    const customer = await ctx.user('customer');
    const none = await create(customer);
    expect(none.statusCode).toBe(409);
    expect(none.json().code).toBe('checkout_not_confirmed');
    const product = await createProduct(ctx.db, catalog, { stock: 10 });
    await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: product.id, quantity: 1 }, as: customer });
    expect((await create(customer)).json().code).toBe('checkout_not_confirmed');
    await ctx.request({ method: 'PATCH', url: '/api/v1/checkout/update/', payload: { shipping_address: ADDRESS }, as: customer });
    await ctx.request({ method: 'POST', url: '/api/v1/checkout/confirm/', as: customer });
    expect((await create(customer)).statusCode).toBe(201);
    const again = await create(customer);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('checkout_not_confirmed');
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toHaveLength(1);
    expect(await stockOf(ctx.db, product.id)).toBe(9);
  });

  it('refuses an order after expires_at with checkout_expired, whether or not a job marked it', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 10 });
    await confirmedCheckout(ctx, customer, [{ product_id: product.id, quantity: 1 }]);
    ctx.clock.set(new Date(Date.now() + (ctx.config.CHECKOUT_TTL_SECONDS + 1) * 1000));
    try {
      const res = await create(customer);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('checkout_expired');
    } finally {
      ctx.clock.real();
    }
    // Nothing marks it: "expired" is derived from expires_at and the database refuses to store it.
    await expect(ctx.db.updateTable('checkouts').set({ status: 'expired' as never }).where('customer_id', '=', customer.id).execute()).rejects.toMatchObject({ code: '23514' });
    ctx.clock.set(new Date(Date.now() + (ctx.config.CHECKOUT_TTL_SECONDS + 5) * 1000));
    let marked;
    try {
      marked = await create(customer);
    } finally {
      ctx.clock.real();
    }
    expect(marked.statusCode).toBe(409);
    expect(marked.json().code).toBe('checkout_expired');
    expect(await stockOf(ctx.db, product.id)).toBe(10);
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toEqual([]);
  });

  it('refuses with insufficient_stock when stock fell after confirmation, puts the checkout back to open and takes no stock', async () => {
    const customer = await ctx.user('customer');
    const plenty = await createProduct(ctx.db, catalog, { stock: 10 });
    const scarce = await createProduct(ctx.db, catalog, { stock: 5 });
    await confirmedCheckout(ctx, customer, [
      { product_id: plenty.id, quantity: 2 },
      { product_id: scarce.id, quantity: 4 },
    ]);
    await ctx.db.updateTable('products').set({ stock: 3 }).where('id', '=', scarce.id).execute();
    const res = await create(customer);
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'insufficient_stock', items: [{ product_id: scarce.id, requested: 4, available: 3 }] });
    expect(res.json().detail).toContain(scarce.name);
    expect(await stockOf(ctx.db, plenty.id)).toBe(10);
    expect(await stockOf(ctx.db, scarce.id)).toBe(3);
    const checkout = await ctx.db.selectFrom('checkouts').select(['status', 'frozen_items']).where('customer_id', '=', customer.id).executeTakeFirstOrThrow();
    expect(checkout).toEqual({ status: 'open', frozen_items: null });
    expect((await ctx.request({ method: 'GET', url: '/api/v1/cart/', as: customer })).json().status).toBe('active');
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toEqual([]);
  });

  it('refuses with product_unavailable when a product went away after confirmation', async () => {
    const customer = await ctx.user('customer');
    const product = await createProduct(ctx.db, catalog, { stock: 10 });
    await confirmedCheckout(ctx, customer, [{ product_id: product.id, quantity: 1 }]);
    await ctx.db.updateTable('products').set({ deleted_at: new Date() }).where('id', '=', product.id).execute();
    const res = await create(customer);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'product_unavailable', product_id: product.id });
    expect(await stockOf(ctx.db, product.id)).toBe(10);
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toEqual([]);
  });

  it('lets only customers create orders (vendor and admin 403, anonymous 401)', async () => {
    expect((await create(await ctx.user('vendor'))).statusCode).toBe(403);
    expect((await create(await ctx.user('admin'))).statusCode).toBe(403);
    expect((await ctx.request({ method: 'POST', url: '/api/v1/orders/create/' })).statusCode).toBe(401);
  });

  describe('reading by role', () => {
    let customer: TestUser;
    let other: TestUser;
    let admin: TestUser;
    let mine: Catalog;
    let theirs: Catalog;
    let order: { id: string; total: number; items: { vendor_id: string; line_total: number }[] };

    beforeAll(async () => {
      customer = await ctx.user('customer');
      other = await ctx.user('customer');
      admin = await ctx.user('admin');
      mine = await createVendor(ctx);
      theirs = await createVendor(ctx);
      const p1 = await createProduct(ctx.db, mine, { unit_price: 1000, stock: 10 });
      const p2 = await createProduct(ctx.db, theirs, { unit_price: 300, stock: 10 });
      order = await orderOf(customer, [
        { product_id: p1.id, quantity: 2 },
        { product_id: p2.id, quantity: 1 },
      ]);
    });

    it('shows the customer their own order, and answers 404 to another customer', async () => {
      const res = await getOrder(customer, order.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: order.id, total: 2300 });
      expect(res.json().items).toHaveLength(2);
      const probe = await getOrder(other, order.id);
      expect(probe.statusCode).toBe(404);
      expect(probe.json().code).toBe('not_found');
      expect((await list(other)).json().results.map((o: { id: string }) => o.id)).not.toContain(order.id);
    });

    it('shows a vendor only its own lines of an order and their sum', async () => {
      const res = await getOrder(mine.vendorUser, order.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ subtotal: 2000, total: 2000 });
      expect(res.json().items.map((i: { vendor_id: string }) => i.vendor_id)).toEqual([mine.vendorId]);
      const listed = (await list(mine.vendorUser)).json().results.find((o: { id: string }) => o.id === order.id);
      expect(listed).toMatchObject({ subtotal: 2000, total: 2000 });
      expect(listed.items).toHaveLength(1);
      const theirsView = (await getOrder(theirs.vendorUser, order.id)).json();
      expect(theirsView).toMatchObject({ subtotal: 300, total: 300 });
    });

    it('answers 404 to a vendor whose products are not in the order', async () => {
      const stranger = await createVendor(ctx);
      expect((await getOrder(stranger.vendorUser, order.id)).statusCode).toBe(404);
      expect((await list(stranger.vendorUser)).json().results).toEqual([]);
    });

    it('shows admins every order in full', async () => {
      const res = await getOrder(admin, order.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ total: 2300 });
      expect((await list(admin)).json().results.map((o: { id: string }) => o.id)).toContain(order.id);
    });

    it('filters by status and pages newest first with cursors', async () => {
      const buyer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 20 });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await orderOf(buyer, [{ product_id: product.id, quantity: 1 }])).id);
      expect((await cancel(buyer, ids[0]!)).statusCode).toBe(200);
      const page1 = (await list(buyer, '?limit=2')).json();
      expect(page1.results.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
      expect(page1.next).toMatch(/^http/);
      const page2 = (await ctx.request({ method: 'GET', url: page1.next.replace(/^https?:\/\/[^/]+/, ''), as: buyer })).json();
      expect(page2.results.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
      expect(page2.next).toBeNull();
      const cancelled = (await list(buyer, '?status=cancelled')).json();
      expect(cancelled.results.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
      const pending = (await list(buyer, '?status=pending_payment')).json();
      expect(pending.results.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
      expect((await list(buyer, '?status=shipped')).statusCode).toBe(400);
      expect((await list(buyer, '?limit=101')).statusCode).toBe(400);
      expect((await list(buyer, '?cursor=forged.cursor')).statusCode).toBe(400);
    });

    it('has no PATCH or DELETE on orders (405 method_not_allowed)', async () => {
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/orders/${order.id}/`, payload: { status: 'paid' }, as: admin })).statusCode).toBe(405);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/orders/${order.id}/`, as: admin })).statusCode).toBe(405);
      expect((await ctx.db.selectFrom('orders').select('status').where('id', '=', order.id).executeTakeFirstOrThrow()).status).toBe('pending_payment');
    });
  });

  describe('cancel', () => {
    it('cancels a pending order for its owner and returns the stock', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 5 });
      const order = await orderOf(customer, [{ product_id: product.id, quantity: 3 }]);
      expect(await stockOf(ctx.db, product.id)).toBe(2);
      const generation = await cache.generation('products');
      const res = await cancel(customer, order.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: order.id, status: 'cancelled' });
      expect(await stockOf(ctx.db, product.id)).toBe(5);
      expect(await cache.generation('products')).toBeGreaterThan(generation);
      const row = await ctx.db.selectFrom('orders').select(['status', 'cancelled_at']).where('id', '=', order.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('cancelled');
      expect(row.cancelled_at).toBeInstanceOf(Date);

      const again = await cancel(customer, order.id);
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('order_not_cancellable');
      expect(await stockOf(ctx.db, product.id)).toBe(5);
    });

    it("answers 404 to another customer, 403 to a vendor, and lets an admin cancel", async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 5 });
      const order = await orderOf(customer, [{ product_id: product.id, quantity: 1 }]);
      expect((await cancel(await ctx.user('customer'), order.id)).statusCode).toBe(404);
      expect((await cancel(catalog.vendorUser, order.id)).statusCode).toBe(403);
      expect(await stockOf(ctx.db, product.id)).toBe(4);
      const res = await cancel(await ctx.user('admin'), order.id);
      expect(res.statusCode).toBe(200);
      expect(await stockOf(ctx.db, product.id)).toBe(5);
    });

    it('refuses to cancel a paid order with order_not_cancellable', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 5 });
      const order = await orderOf(customer, [{ product_id: product.id, quantity: 1 }]);
      await ctx.db.updateTable('orders').set({ status: 'paid', paid_at: new Date() }).where('id', '=', order.id).execute();
      const res = await cancel(customer, order.id);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('order_not_cancellable');
      expect(await stockOf(ctx.db, product.id)).toBe(4);
    });

    it("cancels the order's pending payment in the same transaction, so it can no longer be confirmed (409 payment_not_pending) and the stock comes back once", async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 5 });
      const order = await orderOf(customer, [{ product_id: product.id, quantity: 2 }]);
      const initiated = await initiate(customer, order.id);
      expect(initiated.statusCode).toBe(201);
      const payment = initiated.json();

      const res = await cancel(customer, order.id);
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('cancelled');
      expect(await paymentRows(order.id)).toEqual([expect.objectContaining({ id: payment.id, status: 'cancelled', needs_refund: false, failure_reason: 'order_cancelled', succeeded_at: null })]);
      expect(await stockOf(ctx.db, product.id)).toBe(5);

      const confirmed = await confirmPayment(customer, payment.reference);
      expect(confirmed.statusCode).toBe(409);
      expect(confirmed.json().code).toBe('payment_not_pending');
      expect(await paymentRows(order.id)).toEqual([expect.objectContaining({ status: 'cancelled', needs_refund: false, succeeded_at: null })]);
      const row = await ctx.db.selectFrom('orders').select(['status', 'paid_at']).where('id', '=', order.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'cancelled', paid_at: null });
      expect(await stockOf(ctx.db, product.id)).toBe(5);

      const fresh = await initiate(customer, order.id);
      expect(fresh.statusCode).toBe(409);
      expect(fresh.json().code).toBe('order_not_payable');
    });

    it('answers 404 for an unknown order', async () => {
      expect((await cancel(await ctx.user('customer'), '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    });
  });

  describe('expiry of unpaid orders (called as the job will)', () => {
    it('expires pending orders past payment_due_by and returns their stock, leaving others alone', async () => {
      const product = await createProduct(ctx.db, catalog, { stock: 10 });
      const overdue = await orderOf(await ctx.user('customer'), [{ product_id: product.id, quantity: 2 }]);
      const paid = await orderOf(await ctx.user('customer'), [{ product_id: product.id, quantity: 3 }]);
      await ctx.db.updateTable('orders').set({ status: 'paid', paid_at: new Date() }).where('id', '=', paid.id).execute();
      expect(await stockOf(ctx.db, product.id)).toBe(5);

      const before = await expireOverdueOrders(ctx.services, { now: new Date(Date.now() + 1000) });
      expect(before).not.toContain(overdue.id);

      const later = new Date(new Date(overdue.payment_due_by).getTime() + 1);
      const fresh = await orderOf(await ctx.user('customer'), [{ product_id: product.id, quantity: 1 }]);
      await ctx.db.updateTable('orders').set({ payment_due_by: new Date(later.getTime() + 60_000) }).where('id', '=', fresh.id).execute();
      const generation = await cache.generation('products');
      const expired = await expireOverdueOrders(ctx.services, { now: later });
      expect(expired).toContain(overdue.id);
      expect(expired).not.toContain(paid.id);
      expect(expired).not.toContain(fresh.id);
      expect(await stockOf(ctx.db, product.id)).toBe(6);
      expect(await cache.generation('products')).toBeGreaterThan(generation);
      const rows = await ctx.db.selectFrom('orders').select(['id', 'status', 'expired_at']).where('id', 'in', [overdue.id, paid.id, fresh.id]).execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(overdue.id)).toMatchObject({ status: 'expired', expired_at: later });
      expect(byId.get(paid.id)?.status).toBe('paid');
      expect(byId.get(fresh.id)?.status).toBe('pending_payment');

      expect(await expireOverdueOrders(ctx.services, { now: later })).not.toContain(overdue.id);
      expect(await stockOf(ctx.db, product.id)).toBe(6);
      const cancelAfter = await cancel(await ctx.user('admin'), overdue.id);
      expect(cancelAfter.json().code).toBe('order_not_cancellable');
    });

    it("cancels an expiring order's pending payment in the same transaction; confirming it afterwards is 409 payment_not_pending", async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 4 });
      const order = await orderOf(customer, [{ product_id: product.id, quantity: 3 }]);
      const payment = (await initiate(customer, order.id)).json();
      expect(payment.status).toBe('pending');

      const later = new Date(new Date(order.payment_due_by).getTime() + 1);
      expect(await expireOverdueOrders(ctx.services, { now: later })).toContain(order.id);
      expect(await paymentRows(order.id)).toEqual([expect.objectContaining({ id: payment.id, status: 'cancelled', needs_refund: false, failure_reason: 'order_expired' })]);
      expect(await stockOf(ctx.db, product.id)).toBe(4);

      const confirmed = await confirmPayment(customer, payment.reference);
      expect(confirmed.statusCode).toBe(409);
      expect(confirmed.json().code).toBe('payment_not_pending');
      const row = await ctx.db.selectFrom('orders').select(['status', 'paid_at']).where('id', '=', order.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ status: 'expired', paid_at: null });
      expect(await stockOf(ctx.db, product.id)).toBe(4);
    });
  });

  describe('called as a job or script would: plain values, no HTTP request', () => {
    it('creates an order and cancels it through the services, with the same effects as the routes', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { unit_price: 700, stock: 5 });
      await confirmedCheckout(ctx, customer, [{ product_id: product.id, quantity: 2 }]);

      const created = await createOrder(ctx.services, null, customer.id);
      expect(created.status).toBe(201);
      expect(created.replayed).toBe(false);
      const order = created.body as { id: string; status: string; total: number };
      expect(order).toMatchObject({ status: 'pending_payment', total: 1400 });
      expect(await stockOf(ctx.db, product.id)).toBe(3);

      const cancelled = await cancelOrder(ctx.services, { id: customer.id, role: 'customer' }, order.id);
      expect(cancelled).toMatchObject({ id: order.id, status: 'cancelled' });
      expect(await stockOf(ctx.db, product.id)).toBe(5);
      // A second cancel is refused with the domain error a job can read as data.
      await expect(cancelOrder(ctx.services, { id: customer.id, role: 'customer' }, order.id)).rejects.toMatchObject({
        error: { type: 'order_not_cancellable' },
      });
    });

    it('honours an idempotency value passed as plain data: the same key and hash replays the first outcome', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { unit_price: 300, stock: 4 });
      await confirmedCheckout(ctx, customer, [{ product_id: product.id, quantity: 1 }]);
      const idempotency = { key: 'job-run-1', requestHash: 'a'.repeat(64) };
      const first = await createOrder(ctx.services, idempotency, customer.id);
      const again = await createOrder(ctx.services, idempotency, customer.id);
      expect(first.status).toBe(201);
      expect(again).toEqual({ ...first, replayed: true });
      expect(await stockOf(ctx.db, product.id)).toBe(3);
      await expect(createOrder(ctx.services, { key: 'job-run-1', requestHash: 'b'.repeat(64) }, customer.id)).rejects.toMatchObject({
        error: { type: 'idempotency_key_reused' },
      });
    });
  });
});

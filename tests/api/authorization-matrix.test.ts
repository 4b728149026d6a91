import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPaystack } from '../../shell/payments/signatures.js';
import { ADDRESS } from '../support/commerce-fixtures.js';
import type { TestContext } from '../support/harness.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { CALLERS, fillPath, pathIds, PAYSTACK_SECRET, pngUpload, servedOperations, World, worldContext, type Caller, type Operation, type WorldOptions } from '../support/authz-world.js';

/**
 * API.md, Conventions and Roles: every served operation × the six callers (anonymous, customer, another
 * customer, the vendor who owns the objects, another vendor, admin), each with the status the contract
 * fixes. The operation list is read from the served OpenAPI document: an operation without a row here,
 * or a row for an operation that is not served, fails the test.
 *
 * Objects are owned by "customer" (cart line, checkout, orders, payments, notification) and by
 * "vendorOwner" (vendor profile, bank account, product, image). Rows that change state run each caller
 * in a fresh world (same app, new users and objects), so one caller's success cannot change what the
 * next one sees; read rows share one world.
 */

type Expected = readonly [anonymous: number, customer: number, otherCustomer: number, vendorOwner: number, otherVendor: number, admin: number];

interface Row {
  expect: Expected;
  /** Changes state: each caller gets a fresh world. */
  fresh?: boolean;
  world?: WorldOptions;
  params?: (w: World, caller: Caller) => Promise<Record<string, string>>;
  body?: (w: World, caller: Caller) => Promise<unknown> | unknown;
  raw?: (w: World, caller: Caller) => Promise<Pick<InjectOptions, 'payload' | 'headers'>>;
}

const everyone = (status: number): Expected => [status, status, status, status, status, status];
const unique = () => randomUUID().slice(0, 8);

const MATRIX: Record<string, Row> = {
  //                                                      anon  cust  other vOwn  vOth  admin
  'GET /healthz': { expect: everyone(200) },
  'GET /readyz': { expect: everyone(200) },

  // Authentication: public; the body names the user (anonymous logs in as the customer).
  'POST /api/v1/login/': { expect: everyone(200), body: (w, c) => ({ email: (w.user(c) ?? w.members.customer).email, password: TEST_PASSWORD }) },
  'POST /api/v1/token/refresh/': { expect: everyone(200), body: async (w, c) => ({ refresh: await w.refreshTokenOf(c) }) },
  'POST /api/v1/logout/': { expect: everyone(204), body: async (w, c) => ({ refresh: await w.refreshTokenOf(c) }) },

  // Users: sign-up is public; a user is visible to itself and admins only (404 for everyone else).
  'POST /api/v1/users/': { expect: everyone(201), body: () => ({ email: `new-${unique()}@example.test`, password: 'a-long-enough-password' }) },
  'GET /api/v1/users/': { expect: [401, 200, 200, 200, 200, 200] },
  'GET /api/v1/users/me/': { expect: [401, 200, 200, 200, 200, 200] },
  'GET /api/v1/users/{id}/': { expect: [401, 200, 404, 404, 404, 200], params: pathIds.customer },
  'PATCH /api/v1/users/{id}/': { expect: [401, 200, 404, 404, 404, 200], params: pathIds.customer, body: () => ({ full_name: `Renamed ${unique()}` }) },
  'DELETE /api/v1/users/{id}/': { expect: [401, 204, 404, 404, 404, 204], fresh: true, params: pathIds.customer },

  // Vendors: public reads; another vendor's (or a customer's) write on a visible profile is 403.
  'POST /api/v1/vendors/': {
    expect: [401, 403, 403, 201, 201, 201],
    fresh: true,
    world: { vendorProfiles: false },
    body: (w, c) => ({ business_name: `Shop ${unique()}`, ...(c === 'admin' ? { user_id: w.members.vendorOwner.id } : {}) }),
  },
  'GET /api/v1/vendors/': { expect: everyone(200) },
  'GET /api/v1/vendors/{id}/': { expect: everyone(200), params: pathIds.vendor },
  'PATCH /api/v1/vendors/{id}/': { expect: [401, 403, 403, 200, 403, 200], params: pathIds.vendor, body: () => ({ description: `About ${unique()}` }) },
  'DELETE /api/v1/vendors/{id}/': { expect: [401, 403, 403, 204, 403, 204], fresh: true, params: pathIds.vendor },

  // Bank accounts: vendors and admins; another vendor's account is 404 (never visible), customers 403.
  'POST /api/v1/bank-accounts/': {
    expect: [401, 403, 403, 201, 201, 201],
    fresh: true,
    body: (w, c) => ({ account_name: 'Payout', account_number: '12345678', bank_name: 'Bank', bank_code: '044', ...(c === 'admin' ? { vendor_id: w.vendorId } : {}) }),
  },
  'GET /api/v1/bank-accounts/': { expect: [401, 403, 403, 200, 200, 200] },
  'GET /api/v1/bank-accounts/{id}/': { expect: [401, 403, 403, 200, 404, 200], params: pathIds.bankAccount },
  'PATCH /api/v1/bank-accounts/{id}/': { expect: [401, 403, 403, 200, 404, 200], params: pathIds.bankAccount, body: () => ({ account_name: `Payout ${unique()}` }) },
  'DELETE /api/v1/bank-accounts/{id}/': { expect: [401, 403, 403, 204, 404, 204], fresh: true, params: pathIds.bankAccount },

  // Categories: public reads, admin writes.
  'GET /api/v1/categories/': { expect: everyone(200) },
  'POST /api/v1/categories/': { expect: [401, 403, 403, 403, 403, 201], body: () => ({ name: `Category ${unique()}` }) },
  'GET /api/v1/categories/{id}/': { expect: everyone(200), params: pathIds.category },
  'PATCH /api/v1/categories/{id}/': { expect: [401, 403, 403, 403, 403, 200], params: pathIds.category, body: () => ({ description: `About ${unique()}` }) },
  'DELETE /api/v1/categories/{id}/': { expect: [401, 403, 403, 403, 403, 204], fresh: true, params: async (w) => ({ id: await w.emptyCategory() }) },

  // Products: public reads; another vendor's visible product is 403; customers 403.
  'GET /api/v1/products/': { expect: everyone(200) },
  'POST /api/v1/products/': {
    expect: [401, 403, 403, 201, 201, 201],
    body: (w, c) => ({ name: `Product ${unique()}`, unit_price: 500, stock: 3, category_id: w.categoryId, ...(c === 'admin' ? { vendor_id: w.vendorId } : {}) }),
  },
  'GET /api/v1/products/{id}/': { expect: everyone(200), params: pathIds.product },
  'PATCH /api/v1/products/{id}/': { expect: [401, 403, 403, 200, 403, 200], params: pathIds.product, body: () => ({ description: `About ${unique()}` }) },
  'DELETE /api/v1/products/{id}/': { expect: [401, 403, 403, 204, 403, 204], fresh: true, params: pathIds.product },
  'POST /api/v1/products/{id}/images/': { expect: [401, 403, 403, 201, 403, 201], params: pathIds.product, raw: async () => pngUpload() },
  'DELETE /api/v1/products/{id}/images/{image_id}/': {
    expect: [401, 403, 403, 204, 403, 204],
    fresh: true,
    params: async (w) => ({ id: await w.product(), image_id: (await w.image()).id }),
  },
  'GET /api/v1/media/{key}': { expect: everyone(200), params: async (w) => ({ key: (await w.image()).key }) },

  // Cart: customers only (other roles 403); the other customer works on their own cart; another's line is 404.
  'GET /api/v1/cart/': { expect: [401, 200, 200, 403, 403, 403] },
  'POST /api/v1/cart-items/': {
    // The customer already has the product in the cart (merged: 200); the other customer adds a new line (201).
    expect: [401, 200, 201, 403, 403, 403],
    fresh: true,
    body: async (w) => {
      await w.cartItem();
      return { product_id: await w.product(), quantity: 1 };
    },
  },
  'PATCH /api/v1/cart-items/{id}/': { expect: [401, 200, 404, 403, 403, 403], params: pathIds.cartItem, body: () => ({ quantity: 2 }) },
  'DELETE /api/v1/cart-items/{id}/': { expect: [401, 204, 404, 403, 403, 403], fresh: true, params: pathIds.cartItem },

  // Checkout: customers only; each customer's own (the other customer's cart is empty: 409 on confirm and order).
  'GET /api/v1/checkout/': { expect: [401, 200, 200, 403, 403, 403] },
  'PATCH /api/v1/checkout/update/': { expect: [401, 200, 200, 403, 403, 403], body: () => ({ contact_phone: '+1 555 0100', shipping_address: ADDRESS }) },
  'POST /api/v1/checkout/confirm/': {
    expect: [401, 200, 409, 403, 403, 403],
    fresh: true,
    params: async (w) => {
      await w.openCheckout();
      return {};
    },
  },
  'POST /api/v1/checkout/cancel/': {
    expect: [401, 200, 200, 403, 403, 403],
    fresh: true,
    params: async (w) => {
      await w.confirmedCheckout();
      return {};
    },
  },

  // Orders: customers create from their own checkout; reads by owner, the vendor of its lines and admins.
  'POST /api/v1/orders/create/': {
    expect: [401, 201, 409, 403, 403, 403],
    fresh: true,
    params: async (w) => {
      await w.confirmedCheckout();
      return {};
    },
  },
  'GET /api/v1/orders/': { expect: [401, 200, 200, 200, 200, 200] },
  'GET /api/v1/orders/{id}/': { expect: [401, 200, 404, 200, 404, 200], params: pathIds.pendingOrder },
  'POST /api/v1/orders/{id}/cancel/': { expect: [401, 200, 404, 403, 403, 200], fresh: true, params: pathIds.pendingOrder },

  // Payments: the paying customer and admins (vendors 403, another customer's 404); refunds admins only.
  'POST /api/v1/payments/initiate/': { expect: [401, 201, 404, 403, 403, 403], fresh: true, body: async (w) => ({ order_id: await w.pendingOrder() }) },
  'POST /api/v1/payments/confirm/': { expect: [401, 200, 404, 403, 403, 200], fresh: true, body: async (w) => ({ reference: (await w.pendingPayment()).reference }) },
  'GET /api/v1/payments/': { expect: [401, 200, 200, 403, 403, 200] },
  'GET /api/v1/payments/{id}/': { expect: [401, 200, 404, 403, 403, 200], params: pathIds.pendingPayment },
  'POST /api/v1/payments/{id}/refund/': {
    expect: [401, 403, 403, 403, 403, 200],
    fresh: true,
    params: async (w) => ({ id: (await w.paidPayment()).id }),
    body: () => ({ reason: 'Customer returned the items' }),
  },
  // Authenticated by the provider's signature, not by a bearer token: the same for every caller.
  'POST /api/v1/payments/webhooks/{provider}/': {
    expect: everyone(200),
    params: async () => ({ provider: 'paystack' }),
    raw: async () => {
      const payload = JSON.stringify({ event: 'charge.success', data: { reference: `unknown_${randomUUID()}`, amount: 1000, currency: 'USD', status: 'success' } });
      return { payload, headers: { 'content-type': 'application/json', 'x-paystack-signature': signPaystack(payload, PAYSTACK_SECRET) } };
    },
  },

  // Notifications: every user their own; anyone else's (admins included) is 404.
  'GET /api/v1/notifications/': { expect: [401, 200, 200, 200, 200, 200] },
  'POST /api/v1/notifications/{id}/read/': { expect: [401, 200, 404, 404, 404, 404], params: pathIds.notification },
};

const CODE_OF: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' };

describe('authorization matrix: every served operation × six callers', () => {
  let ctx: TestContext;
  let close: () => Promise<void>;
  let operations: Operation[];

  beforeAll(async () => {
    ({ ctx, close } = await worldContext());
    operations = await servedOperations(ctx);
  });
  afterAll(async () => {
    await close();
  });

  it('has exactly one row per served operation', () => {
    const served = operations.map((o) => o.key).sort();
    const rows = Object.keys(MATRIX).sort();
    expect(served.filter((k) => !rows.includes(k)), 'served operations without a row in MATRIX').toEqual([]);
    expect(rows.filter((k) => !served.includes(k)), 'rows in MATRIX for operations that are not served').toEqual([]);
  });

  it('answers each (operation, caller) with the status the contract fixes', async () => {
    const shared = await World.create(ctx);
    const mismatches: string[] = [];
    let checks = 0;
    const started = Date.now();
    for (const operation of operations) {
      const row = MATRIX[operation.key];
      if (!row) continue; // reported by the test above
      for (const [index, caller] of CALLERS.entries()) {
        const world = row.fresh ? await World.create(ctx, row.world) : shared;
        const params = row.params ? await row.params(world, caller) : {};
        const url = fillPath(operation.path, params);
        const options: InjectOptions = { method: operation.method as InjectOptions['method'], url };
        if (row.raw) Object.assign(options, await row.raw(world, caller));
        else if (row.body) options.payload = (await row.body(world, caller)) as InjectOptions['payload'];
        const user = world.user(caller);
        const res = await ctx.request({ ...options, ...(user ? { as: user } : {}) });
        checks += 1;
        const expected = row.expect[index]!;
        const where = `${operation.key} as ${caller}`;
        if (res.statusCode !== expected) {
          mismatches.push(`${where}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        if (res.statusCode >= 400) {
          const type = String(res.headers['content-type']);
          const code = (res.json() as { code?: string }).code;
          if (!type.startsWith('application/problem+json')) mismatches.push(`${where}: ${res.statusCode} with content-type ${type}`);
          const wanted = CODE_OF[res.statusCode];
          if (wanted && code !== wanted) mismatches.push(`${where}: ${res.statusCode} with code ${code}, expected ${wanted}`);
        }
      }
    }
    console.log(`authorization matrix: ${operations.length} operations × ${CALLERS.length} callers = ${checks} checks (${Date.now() - started} ms)`);
    expect(mismatches).toEqual([]);
    expect(checks).toBe(operations.length * CALLERS.length);
  });
});

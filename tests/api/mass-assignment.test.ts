import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../support/harness.js';
import { applicationTables, changedTables, fillPath, fingerprint, pathIds, World, worldContext, type Caller } from '../support/authz-world.js';

/**
 * API.md, Conventions: a field that exists but that the caller's role may not write (role, is_active,
 * vendor_id for non-admins) is 403 forbidden and nothing is changed; a field a route does not accept
 * (stock, status, amount, price, total, customer_id, id, created_at…) is 400 validation_failed naming it
 * as an unknown field. Each row sends an otherwise valid body plus the one field, and every table is
 * compared before and after (row counts and contents).
 */

interface Row {
  route: string;
  field: string;
  value: (w: World) => unknown;
  caller: Caller;
  expect: 403 | 400;
  params?: (w: World) => Promise<Record<string, string>>;
  base: (w: World) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

const ANY_TIME = () => '2001-01-01T00:00:00.000Z';
const NEW_ID = () => randomUUID();
const ONE = () => 1;

// Valid bodies of each route, without the field under test.
const signUp = () => ({ email: `mass-${randomUUID().slice(0, 8)}@example.test`, password: 'a-long-enough-password' });
const rename = () => ({ full_name: 'Still Me' });
const vendorBody = () => ({ business_name: 'New Shop' });
const describeIt = () => ({ description: 'Unchanged?' });
const bankBody = () => ({ account_name: 'Payout', account_number: '12345678', bank_name: 'Bank', bank_code: '044' });
const productBody = (w: World) => ({ name: 'Smuggled', unit_price: 100, stock: 1, category_id: w.categoryId });
const cartLine = async (w: World) => ({ product_id: await w.product(), quantity: 1 });
const empty = () => ({});

/** Rows for fields a route does not accept at all: 400 unknown field, whoever sends them. */
function unknown(route: string, caller: Caller, base: Row['base'], fields: Record<string, (w: World) => unknown>, params?: Row['params']): Row[] {
  return Object.entries(fields).map(([field, value]) => ({ route, field, value, caller, expect: 400 as const, base, ...(params ? { params } : {}) }));
}

const TABLE: Row[] = [
  // Sign-up: role admin and is_active are admin-only (403); the rest is not a sign-up field (400).
  ...(['anonymous', 'customer', 'vendorOwner'] as const).map((caller): Row => ({ route: 'POST /api/v1/users/', field: 'role', value: () => 'admin', caller, expect: 403, base: signUp })),
  ...(['anonymous', 'customer', 'vendorOwner'] as const).map((caller): Row => ({ route: 'POST /api/v1/users/', field: 'is_active', value: () => false, caller, expect: 403, base: signUp })),
  { route: 'POST /api/v1/users/', field: 'is_active', value: () => true, caller: 'anonymous', expect: 403, base: signUp },
  ...unknown('POST /api/v1/users/', 'anonymous', signUp, { id: NEW_ID, created_at: ANY_TIME, token_version: ONE, password_hash: () => 'x', vendor_id: NEW_ID }),
  ...unknown('POST /api/v1/users/', 'admin', signUp, { id: NEW_ID, created_at: ANY_TIME }),

  // Users: a non-admin may not change role or is_active, even their own.
  { route: 'PATCH /api/v1/users/{id}/', field: 'role', value: () => 'admin', caller: 'customer', expect: 403, params: pathIds.customer, base: rename },
  { route: 'PATCH /api/v1/users/{id}/', field: 'role', value: () => 'vendor', caller: 'customer', expect: 403, params: pathIds.customer, base: rename },
  { route: 'PATCH /api/v1/users/{id}/', field: 'is_active', value: () => false, caller: 'customer', expect: 403, params: pathIds.customer, base: rename },
  { route: 'PATCH /api/v1/users/{id}/', field: 'is_active', value: () => true, caller: 'customer', expect: 403, params: pathIds.customer, base: rename },
  { route: 'PATCH /api/v1/users/{id}/', field: 'role', value: () => 'admin', caller: 'vendorOwner', expect: 403, params: pathIds.vendorOwner, base: rename },
  ...unknown('PATCH /api/v1/users/{id}/', 'customer', rename, { id: NEW_ID, created_at: ANY_TIME, password_hash: () => 'x', token_version: ONE }, pathIds.customer),
  ...unknown('PATCH /api/v1/users/{id}/', 'admin', rename, { id: NEW_ID, created_at: ANY_TIME }, pathIds.customer),

  // Vendors: user_id (create) and is_active (change) are admin-only.
  { route: 'POST /api/v1/vendors/', field: 'user_id', value: (w) => w.members.otherVendor.id, caller: 'vendorOwner', expect: 403, base: vendorBody },
  ...unknown('POST /api/v1/vendors/', 'vendorOwner', vendorBody, { is_active: () => false, id: NEW_ID, created_at: ANY_TIME }),
  { route: 'PATCH /api/v1/vendors/{id}/', field: 'is_active', value: () => false, caller: 'vendorOwner', expect: 403, params: pathIds.vendor, base: describeIt },
  ...unknown('PATCH /api/v1/vendors/{id}/', 'vendorOwner', describeIt, { user_id: (w) => w.members.otherVendor.id, id: NEW_ID, created_at: ANY_TIME }, pathIds.vendor),
  ...unknown('PATCH /api/v1/vendors/{id}/', 'admin', describeIt, { user_id: (w) => w.members.otherVendor.id }, pathIds.vendor),

  // Bank accounts: vendor_id on create is admin-only; it is not a field of a change at all.
  { route: 'POST /api/v1/bank-accounts/', field: 'vendor_id', value: (w) => w.vendorId, caller: 'otherVendor', expect: 403, base: bankBody },
  { route: 'POST /api/v1/bank-accounts/', field: 'vendor_id', value: (w) => w.otherVendorId, caller: 'otherVendor', expect: 403, base: bankBody },
  ...unknown('POST /api/v1/bank-accounts/', 'otherVendor', bankBody, { account_number_last4: () => '1234', id: NEW_ID, created_at: ANY_TIME }),
  ...unknown('PATCH /api/v1/bank-accounts/{id}/', 'vendorOwner', () => ({ account_name: 'Renamed' }), { vendor_id: (w) => w.otherVendorId, account_number_last4: () => '0000', id: NEW_ID }, pathIds.bankAccount),
  ...unknown('PATCH /api/v1/bank-accounts/{id}/', 'admin', () => ({ account_name: 'Renamed' }), { vendor_id: (w) => w.otherVendorId }, pathIds.bankAccount),

  // Categories (admins): only name, slug and description.
  ...unknown('POST /api/v1/categories/', 'admin', () => ({ name: `Mass ${randomUUID().slice(0, 8)}` }), { id: NEW_ID, created_at: ANY_TIME }),
  ...unknown('PATCH /api/v1/categories/{id}/', 'admin', describeIt, { id: NEW_ID, created_at: ANY_TIME }, pathIds.category),

  // Products: vendor_id is admin-only, on create and on change, whichever vendor it names.
  { route: 'POST /api/v1/products/', field: 'vendor_id', value: (w) => w.vendorId, caller: 'vendorOwner', expect: 403, base: productBody },
  { route: 'POST /api/v1/products/', field: 'vendor_id', value: (w) => w.otherVendorId, caller: 'vendorOwner', expect: 403, base: productBody },
  { route: 'POST /api/v1/products/', field: 'vendor_id', value: (w) => w.vendorId, caller: 'otherVendor', expect: 403, base: productBody },
  { route: 'PATCH /api/v1/products/{id}/', field: 'vendor_id', value: (w) => w.otherVendorId, caller: 'vendorOwner', expect: 403, params: pathIds.product, base: describeIt },
  { route: 'PATCH /api/v1/products/{id}/', field: 'vendor_id', value: (w) => w.vendorId, caller: 'vendorOwner', expect: 403, params: pathIds.product, base: describeIt },
  ...unknown('POST /api/v1/products/', 'vendorOwner', productBody, { id: NEW_ID, currency: () => 'EUR', created_at: ANY_TIME, updated_at: ANY_TIME, deleted_at: ANY_TIME, images: () => [] }),
  ...unknown('PATCH /api/v1/products/{id}/', 'vendorOwner', describeIt, { id: NEW_ID, currency: () => 'EUR', deleted_at: ANY_TIME, created_at: ANY_TIME }, pathIds.product),

  // Cart: the price, the line total and the cart are the server's.
  ...unknown('POST /api/v1/cart-items/', 'customer', cartLine, { unit_price: ONE, price: ONE, line_total: ONE, cart_id: NEW_ID, id: NEW_ID, name: () => 'x', status: () => 'frozen' }),
  ...unknown('PATCH /api/v1/cart-items/{id}/', 'customer', () => ({ quantity: 2 }), { unit_price: ONE, product_id: NEW_ID, line_total: ONE }, pathIds.cartItem),

  // Checkout and orders: status, totals, items and owners are never taken from a client.
  ...unknown('PATCH /api/v1/checkout/update/', 'customer', () => ({ contact_phone: '+1 555 0100' }), {
    status: () => 'confirmed',
    total: ONE,
    subtotal: ONE,
    items: () => [],
    expires_at: ANY_TIME,
    customer_id: (w) => w.members.otherCustomer.id,
    cart_id: NEW_ID,
  }),
  ...unknown('POST /api/v1/checkout/confirm/', 'customer', empty, { status: () => 'confirmed', total: ONE }),
  ...unknown('POST /api/v1/orders/create/', 'customer', empty, { total: ONE, customer_id: (w) => w.members.otherCustomer.id, status: () => 'paid', items: () => [] }),
  ...unknown('POST /api/v1/orders/{id}/cancel/', 'customer', empty, { status: () => 'paid' }, pathIds.pendingOrder),

  // Payments: the amount is always the order's total; status and owner are the server's.
  ...unknown('POST /api/v1/payments/initiate/', 'customer', async (w) => ({ order_id: await w.pendingOrder() }), {
    amount: ONE,
    currency: () => 'EUR',
    status: () => 'succeeded',
    customer_id: (w) => w.members.otherCustomer.id,
    reference: () => 'mine',
    id: NEW_ID,
  }),
  ...unknown('POST /api/v1/payments/confirm/', 'customer', async (w) => ({ reference: (await w.pendingPayment()).reference }), { status: () => 'succeeded', amount: ONE }),
  ...unknown('POST /api/v1/payments/{id}/refund/', 'admin', () => ({ reason: 'Returned' }), { amount: ONE, status: () => 'refunded' }, pathIds.paidPayment),

  // Notifications.
  ...unknown('POST /api/v1/notifications/{id}/read/', 'customer', empty, { read_at: ANY_TIME, user_id: (w) => w.members.otherCustomer.id }, pathIds.notification),
];

describe('mass assignment: fields a caller may not set are refused and nothing changes', () => {
  let ctx: TestContext;
  let close: () => Promise<void>;
  let world: World;
  let tables: string[];

  beforeAll(async () => {
    ({ ctx, close } = await worldContext());
    world = await World.create(ctx);
    // Every object the rows point at exists before the first fingerprint.
    await Promise.all([world.bankAccount(), world.cartItem(), world.pendingOrder(), world.notification()]);
    await world.pendingPayment();
    await world.paidPayment();
    tables = await applicationTables(ctx.db);
  });
  afterAll(async () => {
    await close();
  });

  it('answers every row of the table with 403 forbidden or 400 unknown field, and writes nothing', async () => {
    const failures: string[] = [];
    let writes = 0;
    for (const row of TABLE) {
      const [method, template] = row.route.split(' ') as [string, string];
      const url = fillPath(template, row.params ? await row.params(world) : {});
      const payload = { ...(await row.base(world)), [row.field]: row.value(world) };
      const where = `${row.route} ${row.field} as ${row.caller}`;
      const before = await fingerprint(ctx.db, tables);
      const user = world.user(row.caller);
      const res = await ctx.request({ method: method as 'POST', url, payload, ...(user ? { as: user } : {}) });
      const changed = changedTables(before, await fingerprint(ctx.db, tables));
      if (changed.length) writes += 1;
      if (changed.length) failures.push(`${where}: wrote to ${changed.join(', ')} (answer ${res.statusCode})`);
      if (res.statusCode !== row.expect) {
        failures.push(`${where}: expected ${row.expect}, got ${res.statusCode} ${res.body.slice(0, 200)}`);
        continue;
      }
      if (!String(res.headers['content-type']).startsWith('application/problem+json')) failures.push(`${where}: not problem+json`);
      const problem = res.json<{ code: string; detail: string; errors?: { path: string; message: string }[] }>();
      if (row.expect === 403) {
        if (problem.code !== 'forbidden' || !problem.detail.includes(row.field)) failures.push(`${where}: ${problem.code} "${problem.detail}" does not refuse ${row.field}`);
      } else if (problem.code !== 'validation_failed' || JSON.stringify(problem.errors) !== JSON.stringify([{ path: row.field, message: 'Unknown field' }])) {
        failures.push(`${where}: ${problem.code} ${JSON.stringify(problem.errors)} is not exactly "unknown field ${row.field}"`);
      }
    }
    const forbidden = TABLE.filter((r) => r.expect === 403).length;
    const routes = new Set(TABLE.map((r) => r.route)).size;
    console.log(`mass-assignment table: ${TABLE.length} rows (${forbidden} × 403 forbidden, ${TABLE.length - forbidden} × 400 unknown field) over ${routes} routes, ${writes} of them wrote anything`);
    expect(failures).toEqual([]);
  });
});

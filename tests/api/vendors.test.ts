import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../shell/cache.js';
import type { Page } from '../../shell/pagination.js';
import type { Vendor } from '../../shell/shapes/vendors.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';

let ctx: TestContext;
const cache = memoryCache();

beforeAll(async () => {
  ctx = await createTestContext({ deps: { cache } });
});
afterAll(async () => {
  await ctx.close();
});

async function vendorWithProfile(fields: { business_name?: string } = {}): Promise<{ user: TestUser; vendor: Vendor }> {
  const user = await ctx.user('vendor');
  const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: user, payload: { business_name: fields.business_name ?? `Shop ${user.id.slice(0, 6)}` } });
  expect(res.statusCode).toBe(201);
  return { user, vendor: res.json() as Vendor };
}

const rowOf = (id: string) => ctx.db.selectFrom('vendors').selectAll().where('id', '=', id).executeTakeFirst();

describe('POST /vendors/', () => {
  it('creates the calling vendor their profile', async () => {
    const user = await ctx.user('vendor');
    const res = await ctx.request({
      method: 'POST',
      url: '/api/v1/vendors/',
      as: user,
      payload: { business_name: '  Acme Goods ', description: 'Anvils', support_email: 'help@acme.test' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as Vendor;
    expect(body).toEqual({
      id: expect.any(String),
      user_id: user.id,
      business_name: 'Acme Goods',
      description: 'Anvils',
      support_email: 'help@acme.test',
      is_active: true,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    });
    expect(await rowOf(body.id)).toMatchObject({ user_id: user.id, business_name: 'Acme Goods', is_active: true });
  });

  it('refuses a second profile for the same vendor with 409 vendor_exists', async () => {
    const { user } = await vendorWithProfile();
    const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: user, payload: { business_name: 'Again' } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'vendor_exists', status: 409 });
    expect(await ctx.db.selectFrom('vendors').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  it('creates exactly one profile when the same vendor posts many at once', async () => {
    const user = await ctx.user('vendor');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: user, payload: { business_name: `Race ${i}` } })),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.statusCode === 409)) expect(r.json()).toMatchObject({ code: 'vendor_exists' });
    expect(await ctx.db.selectFrom('vendors').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
  });

  it('refuses customers with 403 and anonymous callers with 401', async () => {
    const customer = await ctx.user('customer');
    const asCustomer = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: customer, payload: { business_name: 'Nope' } });
    expect(asCustomer.statusCode).toBe(403);
    expect(asCustomer.json()).toMatchObject({ code: 'forbidden' });
    const anonymous = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', payload: { business_name: 'Nope' } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'unauthenticated' });
    expect(await ctx.db.selectFrom('vendors').select('id').where('user_id', '=', customer.id).execute()).toHaveLength(0);
  });

  it('lets an admin create the profile of a vendor user named by user_id', async () => {
    const admin = await ctx.user('admin');
    const target = await ctx.user('vendor');
    const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: admin, payload: { business_name: 'Made by admin', user_id: target.id } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ user_id: target.id });
    expect(await ctx.db.selectFrom('vendors').select('id').where('user_id', '=', target.id).execute()).toHaveLength(1);
  });

  it('refuses an admin naming no user, a customer or an unknown user with 400', async () => {
    const admin = await ctx.user('admin');
    const customer = await ctx.user('customer');
    for (const payload of [{ business_name: 'X' }, { business_name: 'X', user_id: customer.id }, { business_name: 'X', user_id: randomUUID() }]) {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: admin, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'user_id' }] });
    }
    expect(await ctx.db.selectFrom('vendors').select('id').where('user_id', 'in', [admin.id, customer.id]).execute()).toHaveLength(0);
  });

  it('refuses user_id from a vendor with 403 forbidden, creating nothing', async () => {
    const user = await ctx.user('vendor');
    const other = await ctx.user('vendor');
    const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: user, payload: { business_name: 'X', user_id: other.id } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'forbidden' });
    expect(await ctx.db.selectFrom('vendors').select('id').where('user_id', 'in', [user.id, other.id]).execute()).toHaveLength(0);
  });

  it('rejects unknown fields, an empty name and a bad email with 400', async () => {
    const user = await ctx.user('vendor');
    for (const payload of [{ business_name: 'X', is_active: false }, { business_name: '   ' }, { business_name: 'X', support_email: 'not-an-email' }, {}]) {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors/', as: user, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
  });

  it('answers without the trailing slash too', async () => {
    const user = await ctx.user('vendor');
    const res = await ctx.request({ method: 'POST', url: '/api/v1/vendors', as: user, payload: { business_name: 'No slash' } });
    expect(res.statusCode).toBe(201);
  });
});

describe('GET /vendors/ and /vendors/{id}/', () => {
  it('shows an active profile to anyone, with and without the trailing slash', async () => {
    const { vendor } = await vendorWithProfile({ business_name: 'Public Shop' });
    const one = await ctx.request({ method: 'GET', url: `/api/v1/vendors/${vendor.id}/` });
    const two = await ctx.request({ method: 'GET', url: `/api/v1/vendors/${vendor.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(vendor);
    expect(two.body).toBe(one.body);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    const missing = await ctx.request({ method: 'GET', url: `/api/v1/vendors/${randomUUID()}/` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'not_found' });
    const malformed = await ctx.request({ method: 'GET', url: '/api/v1/vendors/not-a-uuid/' });
    expect(malformed.statusCode).toBe(400);
  });

  it('hides a deactivated profile from the public and other users, but not from its owner or an admin', async () => {
    const { user, vendor } = await vendorWithProfile();
    await ctx.db.updateTable('vendors').set({ is_active: false }).where('id', '=', vendor.id).execute();
    const url = `/api/v1/vendors/${vendor.id}/`;
    expect((await ctx.request({ method: 'GET', url })).statusCode).toBe(404);
    expect((await ctx.request({ method: 'GET', url, as: await ctx.user('customer') })).statusCode).toBe(404);
    expect((await ctx.request({ method: 'GET', url, as: await ctx.user('vendor') })).statusCode).toBe(404);
    const own = await ctx.request({ method: 'GET', url, as: user });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: vendor.id, is_active: false });
    expect((await ctx.request({ method: 'GET', url, as: await ctx.user('admin') })).statusCode).toBe(200);
  });

  it('lists active profiles page by page, and admins also see deactivated ones', async () => {
    const made = [await vendorWithProfile(), await vendorWithProfile(), await vendorWithProfile()];
    const hidden = made[1]!.vendor.id;
    await ctx.db.updateTable('vendors').set({ is_active: false }).where('id', '=', hidden).execute();

    const seen: string[] = [];
    let url: string | null = '/api/v1/vendors/?limit=2';
    let pages = 0;
    while (url) {
      const res = await ctx.request({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const page = res.json() as Page<Vendor>;
      expect(page.results.length).toBeLessThanOrEqual(2);
      if (pages > 0) expect(page.previous).toMatch(/^http:\/\/localhost(:\d+)?\/api\/v1\/vendors\/\?/);
      seen.push(...page.results.map((v) => v.id));
      url = page.next ? page.next.replace(/^http:\/\/[^/]+/, '') : null;
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(made[0]!.vendor.id);
    expect(seen).toContain(made[2]!.vendor.id);
    expect(seen).not.toContain(hidden);
    const active = await ctx.db.selectFrom('vendors').select('id').where('is_active', '=', true).execute();
    expect(seen.sort()).toEqual(active.map((r) => r.id).sort());

    const asAdmin = await ctx.request({ method: 'GET', url: '/api/v1/vendors?limit=100', as: await ctx.user('admin') });
    expect((asAdmin.json() as { results: Vendor[] }).results.map((v) => v.id)).toContain(hidden);
  });

  it('rejects a limit outside 1–100 and a cursor it did not issue with 400', async () => {
    for (const q of ['limit=0', 'limit=101', 'cursor=forged.cursor']) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/vendors/?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
  });
});

describe('PATCH /vendors/{id}/', () => {
  it('follows the role matrix: anonymous 401, customer 403, other vendor 403, owner and admin 200', async () => {
    const { user, vendor } = await vendorWithProfile({ business_name: 'Before' });
    const url = `/api/v1/vendors/${vendor.id}/`;
    const send = (as: TestUser | undefined, business_name: string) => ctx.request({ method: 'PATCH', url, payload: { business_name }, ...(as ? { as } : {}) });

    expect((await send(undefined, 'Anon')).statusCode).toBe(401);
    const customer = await send(await ctx.user('customer'), 'Customer');
    expect(customer.statusCode).toBe(403);
    expect(customer.json()).toMatchObject({ code: 'forbidden' });
    expect((await send((await vendorWithProfile()).user, 'Other')).statusCode).toBe(403);
    expect((await rowOf(vendor.id))!.business_name).toBe('Before');

    const own = await send(user, 'Owner');
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: vendor.id, business_name: 'Owner' });
    const admin = await send(await ctx.user('admin'), 'Admin');
    expect(admin.statusCode).toBe(200);
    expect((await rowOf(vendor.id))!.business_name).toBe('Admin');
  });

  it('changes description and clears support_email', async () => {
    const { user, vendor } = await vendorWithProfile();
    await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}/`, as: user, payload: { support_email: 'a@b.test' } });
    const res = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}`, as: user, payload: { description: 'New', support_email: null } });
    expect(res.statusCode).toBe(200);
    expect(await rowOf(vendor.id)).toMatchObject({ description: 'New', support_email: null });
  });

  it('lets only an admin write is_active; the owner gets 403 and nothing changes', async () => {
    const { user, vendor } = await vendorWithProfile({ business_name: 'Keep' });
    const refused = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}/`, as: user, payload: { business_name: 'Changed', is_active: false } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden' });
    expect(await rowOf(vendor.id)).toMatchObject({ business_name: 'Keep', is_active: true });

    const before = await cache.generation('products');
    const admin = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}/`, as: await ctx.user('admin'), payload: { is_active: false } });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toMatchObject({ is_active: false });
    expect((await rowOf(vendor.id))!.is_active).toBe(false);
    expect(await cache.generation('products')).toBeGreaterThan(before);
  });

  it("answers another vendor 404 for a deactivated profile they cannot see", async () => {
    const { vendor } = await vendorWithProfile();
    await ctx.db.updateTable('vendors').set({ is_active: false }).where('id', '=', vendor.id).execute();
    const res = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}/`, as: (await vendorWithProfile()).user, payload: { business_name: 'X' } });
    expect(res.statusCode).toBe(404);
  });

  it('rejects unknown fields such as user_id with 400', async () => {
    const { user, vendor } = await vendorWithProfile();
    const res = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}/`, as: user, payload: { user_id: randomUUID() } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'user_id' }] });
  });

  it('answers 404 for an unknown vendor', async () => {
    const res = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${randomUUID()}/`, as: await ctx.user('admin'), payload: { business_name: 'X' } });
    expect(res.statusCode).toBe(404);
  });
});

describe('DELETE /vendors/{id}/', () => {
  async function productOf(vendorId: string): Promise<string> {
    const now = new Date();
    const categoryId = randomUUID();
    await ctx.db.insertInto('categories').values({ id: categoryId, name: 'C', slug: `c-${categoryId}`, created_at: now, updated_at: now }).execute();
    const id = randomUUID();
    await ctx.db
      .insertInto('products')
      .values({ id, vendor_id: vendorId, category_id: categoryId, name: 'Thing', unit_price: 500, stock: 3, created_at: now, updated_at: now })
      .execute();
    return id;
  }

  it('follows the role matrix: anonymous 401, customer 403, other vendor 403', async () => {
    const { vendor } = await vendorWithProfile();
    const url = `/api/v1/vendors/${vendor.id}/`;
    expect((await ctx.request({ method: 'DELETE', url })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'DELETE', url, as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'DELETE', url, as: (await vendorWithProfile()).user })).statusCode).toBe(403);
    expect((await rowOf(vendor.id))!.is_active).toBe(true);
  });

  it('deactivates the owner’s profile (204), keeps its products and hides them from the public catalog', async () => {
    const { user, vendor } = await vendorWithProfile();
    const productId = await productOf(vendor.id);
    const listed = async () => ((await ctx.request({ method: 'GET', url: '/api/v1/products/?limit=100' })).json() as { results: { id: string }[] }).results.map((p) => p.id);
    expect(await listed()).toContain(productId);

    const before = await cache.generation('products');
    const res = await ctx.request({ method: 'DELETE', url: `/api/v1/vendors/${vendor.id}/`, as: user });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await rowOf(vendor.id))!.is_active).toBe(false);
    expect(await cache.generation('products')).toBeGreaterThan(before);
    const product = await ctx.db.selectFrom('products').select(['is_active', 'deleted_at']).where('id', '=', productId).executeTakeFirst();
    expect(product).toEqual({ is_active: true, deleted_at: null });
    expect(await listed()).not.toContain(productId);

    // The owner may repeat it (idempotent); the public no longer sees the profile.
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/vendors/${vendor.id}`, as: user })).statusCode).toBe(204);
    expect((await ctx.request({ method: 'GET', url: `/api/v1/vendors/${vendor.id}/` })).statusCode).toBe(404);
  });

  it('lets an admin deactivate any vendor, and reactivate it with PATCH is_active', async () => {
    const { vendor } = await vendorWithProfile();
    const admin = await ctx.user('admin');
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/vendors/${vendor.id}/`, as: admin })).statusCode).toBe(204);
    expect((await rowOf(vendor.id))!.is_active).toBe(false);
    const back = await ctx.request({ method: 'PATCH', url: `/api/v1/vendors/${vendor.id}/`, as: admin, payload: { is_active: true } });
    expect(back.statusCode).toBe(200);
    expect((await rowOf(vendor.id))!.is_active).toBe(true);
  });

  it('answers 404 for an unknown vendor', async () => {
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/vendors/${randomUUID()}/`, as: await ctx.user('admin') })).statusCode).toBe(404);
  });
});

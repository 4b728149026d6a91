import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../shell/cache.js';
import type { Page } from '../../shell/pagination.js';
import type { Category } from '../../shell/shapes/categories.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';

let ctx: TestContext;
let admin: TestUser;
const cache = memoryCache();

beforeAll(async () => {
  ctx = await createTestContext({ deps: { cache } });
  admin = await ctx.user('admin');
});
afterAll(async () => {
  await ctx.close();
});

async function createCategory(payload: Record<string, unknown>): Promise<Category> {
  const res = await ctx.request({ method: 'POST', url: '/api/v1/categories/', as: admin, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Category;
}

const rowOf = (id: string) => ctx.db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();

async function productIn(categoryId: string, fields: { deleted_at?: Date } = {}): Promise<string> {
  const user = await ctx.user('vendor');
  const now = new Date();
  const vendorId = randomUUID();
  await ctx.db.insertInto('vendors').values({ id: vendorId, user_id: user.id, business_name: 'Shop', created_at: now, updated_at: now }).execute();
  const id = randomUUID();
  await ctx.db
    .insertInto('products')
    .values({ id, vendor_id: vendorId, category_id: categoryId, name: 'Thing', unit_price: 100, stock: 1, deleted_at: fields.deleted_at ?? null, created_at: now, updated_at: now })
    .execute();
  return id;
}

describe('POST /categories/', () => {
  it('creates a category with a slug derived from its name, unicode included', async () => {
    const before = await cache.generation('products');
    const made = await createCategory({ name: 'Crème Brûlée & Desserts', description: 'Sweet' });
    expect(made).toEqual({ id: expect.any(String), name: 'Crème Brûlée & Desserts', slug: 'creme-brulee-desserts', description: 'Sweet', created_at: expect.any(String) });
    expect(await rowOf(made.id)).toMatchObject({ slug: 'creme-brulee-desserts' });
    expect(await cache.generation('products')).toBeGreaterThan(before);
    expect((await createCategory({ name: 'Книги' })).slug).toBe('книги');
  });

  it('takes a canonical slug as given and refuses a non-canonical one with 400', async () => {
    expect((await createCategory({ name: 'Tools', slug: 'hand-tools' })).slug).toBe('hand-tools');
    const res = await ctx.request({ method: 'POST', url: '/api/v1/categories/', as: admin, payload: { name: 'Tools', slug: 'Hand Tools' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'slug' }] });
  });

  it('refuses a name with nothing to derive a slug from with 400', async () => {
    const res = await ctx.request({ method: 'POST', url: '/api/v1/categories/', as: admin, payload: { name: '🎉 !!!' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'name' }] });
  });

  it('refuses a taken slug with 409 slug_taken, given or derived', async () => {
    await createCategory({ name: 'Garden' });
    for (const payload of [{ name: 'Garden' }, { name: 'Other', slug: 'garden' }]) {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/categories/', as: admin, payload });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'slug_taken' });
    }
    expect(await ctx.db.selectFrom('categories').select('id').where('slug', '=', 'garden').execute()).toHaveLength(1);
  });

  it('creates exactly one category when the same slug is posted many times at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => ctx.request({ method: 'POST', url: '/api/v1/categories/', as: admin, payload: { name: 'Racing Slugs' } })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await ctx.db.selectFrom('categories').select('id').where('slug', '=', 'racing-slugs').execute()).toHaveLength(1);
  });

  it('is admin only: anonymous 401, customer 403, vendor 403', async () => {
    const payload = { name: 'Forbidden Fruit' };
    expect((await ctx.request({ method: 'POST', url: '/api/v1/categories/', payload })).statusCode).toBe(401);
    for (const role of ['customer', 'vendor'] as const) {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/categories/', payload, as: await ctx.user(role) });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'forbidden' });
    }
    expect(await ctx.db.selectFrom('categories').select('id').where('slug', '=', 'forbidden-fruit').execute()).toHaveLength(0);
  });

  it('rejects unknown fields and an over-long name with 400, and answers without the trailing slash', async () => {
    for (const payload of [{ name: 'X', parent_id: randomUUID() }, { name: 'x'.repeat(121) }, {}]) {
      expect((await ctx.request({ method: 'POST', url: '/api/v1/categories/', as: admin, payload })).statusCode).toBe(400);
    }
    expect((await ctx.request({ method: 'POST', url: '/api/v1/categories', as: admin, payload: { name: 'No Slash' } })).statusCode).toBe(201);
  });
});

describe('GET /categories/ and /categories/{id}/', () => {
  it('shows a category to anyone, with and without the trailing slash; unknown ids are 404', async () => {
    const made = await createCategory({ name: 'Public Things' });
    const one = await ctx.request({ method: 'GET', url: `/api/v1/categories/${made.id}/` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(made);
    expect((await ctx.request({ method: 'GET', url: `/api/v1/categories/${made.id}` })).body).toBe(one.body);
    expect((await ctx.request({ method: 'GET', url: `/api/v1/categories/${randomUUID()}/` })).statusCode).toBe(404);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/categories/nope/' })).statusCode).toBe(400);
  });

  it('lists every category exactly once across pages, forwards and back', async () => {
    for (let i = 0; i < 5; i++) await createCategory({ name: `Paged ${i}` });
    const all = (await ctx.db.selectFrom('categories').select('id').execute()).map((r) => r.id).sort();
    const seen: string[] = [];
    let url: string | null = '/api/v1/categories/?limit=3';
    let last: { previous: string | null } | null = null;
    while (url) {
      const res = await ctx.request({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const page = res.json() as Page<Category>;
      expect(page.results.length).toBeLessThanOrEqual(3);
      seen.push(...page.results.map((c) => c.id));
      url = page.next ? page.next.replace(/^http:\/\/[^/]+/, '') : null;
      last = page;
    }
    expect(seen.sort()).toEqual(all);
    const back = await ctx.request({ method: 'GET', url: last!.previous!.replace(/^http:\/\/[^/]+/, '') });
    expect(back.statusCode).toBe(200);
    expect((back.json() as { results: unknown[] }).results).toHaveLength(3);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/categories?limit=0' })).statusCode).toBe(400);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/categories?cursor=abc.def' })).statusCode).toBe(400);
  });
});

describe('PATCH /categories/{id}/', () => {
  it('re-derives the slug from a new name, and keeps an explicit one', async () => {
    const made = await createCategory({ name: 'Old Name' });
    const before = await cache.generation('products');
    const renamed = await ctx.request({ method: 'PATCH', url: `/api/v1/categories/${made.id}/`, as: admin, payload: { name: 'New Name' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'New Name', slug: 'new-name' });
    expect(await cache.generation('products')).toBeGreaterThan(before);
    const described = await ctx.request({ method: 'PATCH', url: `/api/v1/categories/${made.id}`, as: admin, payload: { description: 'Only this' } });
    expect(described.json()).toMatchObject({ slug: 'new-name', description: 'Only this' });
    const slugged = await ctx.request({ method: 'PATCH', url: `/api/v1/categories/${made.id}/`, as: admin, payload: { slug: 'custom' } });
    expect(slugged.json()).toMatchObject({ name: 'New Name', slug: 'custom' });
    expect(await rowOf(made.id)).toMatchObject({ name: 'New Name', slug: 'custom', description: 'Only this' });
  });

  it('refuses a name or slug that lands on a taken slug with 409 slug_taken, changing nothing', async () => {
    await createCategory({ name: 'Taken Slug' });
    const made = await createCategory({ name: 'Free Slug' });
    for (const payload of [{ name: 'Taken Slug' }, { slug: 'taken-slug' }]) {
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/categories/${made.id}/`, as: admin, payload });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'slug_taken' });
    }
    expect(await rowOf(made.id)).toMatchObject({ name: 'Free Slug', slug: 'free-slug' });
    // Its own slug is not "taken".
    expect((await ctx.request({ method: 'PATCH', url: `/api/v1/categories/${made.id}/`, as: admin, payload: { name: 'Free Slug' } })).statusCode).toBe(200);
  });

  it('is admin only: anonymous 401, customer 403, vendor 403; unknown id 404', async () => {
    const made = await createCategory({ name: 'Guarded' });
    const url = `/api/v1/categories/${made.id}/`;
    expect((await ctx.request({ method: 'PATCH', url, payload: { name: 'X' } })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'PATCH', url, payload: { name: 'X' }, as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'PATCH', url, payload: { name: 'X' }, as: await ctx.user('vendor') })).statusCode).toBe(403);
    expect((await rowOf(made.id))!.name).toBe('Guarded');
    expect((await ctx.request({ method: 'PATCH', url: `/api/v1/categories/${randomUUID()}/`, payload: { name: 'X' }, as: admin })).statusCode).toBe(404);
  });
});

describe('DELETE /categories/{id}/', () => {
  it('deletes an unused category (204)', async () => {
    const made = await createCategory({ name: 'Short Lived' });
    const before = await cache.generation('products');
    const res = await ctx.request({ method: 'DELETE', url: `/api/v1/categories/${made.id}/`, as: admin });
    expect(res.statusCode).toBe(204);
    expect(await rowOf(made.id)).toBeUndefined();
    expect(await cache.generation('products')).toBeGreaterThan(before);
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/categories/${made.id}`, as: admin })).statusCode).toBe(404);
  });

  it('refuses with 409 category_in_use while products, even soft-deleted ones, belong to it', async () => {
    const live = await createCategory({ name: 'Live Products' });
    await productIn(live.id);
    const history = await createCategory({ name: 'Deleted Products' });
    await productIn(history.id, { deleted_at: new Date() });
    for (const c of [live, history]) {
      const res = await ctx.request({ method: 'DELETE', url: `/api/v1/categories/${c.id}/`, as: admin });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'category_in_use' });
      expect(await rowOf(c.id)).toBeDefined();
    }
  });

  it('is admin only: anonymous 401, customer 403, vendor 403', async () => {
    const made = await createCategory({ name: 'Still Here' });
    const url = `/api/v1/categories/${made.id}/`;
    expect((await ctx.request({ method: 'DELETE', url })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'DELETE', url, as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'DELETE', url, as: await ctx.user('vendor') })).statusCode).toBe(403);
    expect(await rowOf(made.id)).toBeDefined();
  });

  it('answers a list asked with a malformed Host header with 400 bad_request, never a 500, and builds links from a valid one', async () => {
    for (const host of ['a b', 'evil.com:abc', 'evil.com/x?', 'evil.com@attacker', '-evil', 'evil.example:99999', '999.999.999.999', '[::1]:70000']) {
      const res = await ctx.request({ method: 'GET', url: '/api/v1/categories/?limit=1', headers: { host } });
      expect({ host, status: res.statusCode, code: res.json().code, type: String(res.headers['content-type']).split(';')[0] }).toEqual({ host, status: 400, code: 'bad_request', type: 'application/problem+json' });
    }
    const admin = await ctx.user('admin');
    for (const name of ['Host one', 'Host two']) await ctx.request({ method: 'POST', url: '/api/v1/categories/', payload: { name }, as: admin });
    const ok = await ctx.request({ method: 'GET', url: '/api/v1/categories/?limit=1', headers: { host: 'shop.example:8443' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().next).toMatch(/^http:\/\/shop\.example:8443\/api\/v1\/categories\/\?limit=1&cursor=/);
  });
});

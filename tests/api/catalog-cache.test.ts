import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, memoryCache, redisCache, type Cache } from '../../shell/cache.js';
import type { Page } from '../../shell/pagination.js';
import type { Product } from '../../shell/shapes/products.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { category, insertProduct, vendorWithProfile, type VendorFixture } from './product-fixtures.js';

describe('catalog cache on a real Redis: reads see writes', () => {
  let ctx: TestContext;
  let owner: VendorFixture;
  let admin: TestUser;
  let cat: { id: string; slug: string };

  beforeAll(async () => {
    ctx = await createTestContext({ redis: true });
    owner = await vendorWithProfile(ctx);
    admin = await ctx.user('admin');
    cat = await category(ctx);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const get = (url: string, as?: TestUser) => ctx.request({ method: 'GET', url, ...(as ? { as } : {}) });
  const listIds = async (url: string) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    return { ids: res.json<Page<Product>>().results.map((p) => p.id), cache: res.headers['x-cache'] };
  };
  const cachedValues = async () => {
    const keys = await ctx.redis!.keys(`${ctx.config.REDIS_PREFIX}c:products:*`);
    return keys.length ? await ctx.redis!.mget(...keys) : [];
  };

  it('uses Redis for the cache', async () => {
    const vendorOnly = `/api/v1/products/?vendor=${owner.vendorId}&limit=7`;
    await get(vendorOnly);
    expect((await ctx.redis!.keys(`${ctx.config.REDIS_PREFIX}c:products:*`)).length).toBeGreaterThan(0);
  });

  it('answers a repeated list request from the cache with the same body and a JSON content type', async () => {
    await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Cached lamp' });
    const url = `/api/v1/products/?category=${cat.slug}&ordering=name`;
    const first = await get(url);
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('miss');
    const second = await get(url);
    expect(second.statusCode).toBe(200);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.headers['content-type']).toMatch(/^application\/json/);
    expect(second.json()).toEqual(first.json());
    const other = await get(`${url}&limit=5`);
    expect(other.headers['x-cache']).toBe('miss');
  });

  it('answers a repeated detail request from the cache', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Detail' });
    const first = await get(`/api/v1/products/${id}/`);
    expect(first.headers['x-cache']).toBe('miss');
    const second = await get(`/api/v1/products/${id}/`);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.json()).toEqual(first.json());
  });

  it('shows a PATCH in the list and the detail as soon as it has answered', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Before' });
    const listUrl = `/api/v1/products/?vendor=${owner.vendorId}&limit=100`;
    await get(listUrl);
    await get(`/api/v1/products/${id}/`);
    expect((await get(`/api/v1/products/${id}/`)).headers['x-cache']).toBe('hit');

    const patch = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { name: 'After' }, as: owner.user });
    expect(patch.statusCode).toBe(200);

    const detail = await get(`/api/v1/products/${id}/`);
    expect(detail.json<Product>().name).toBe('After');
    const listed = (await get(listUrl)).json<Page<Product>>().results.find((p) => p.id === id);
    expect(listed?.name).toBe('After');
  });

  it('hides a deactivated product from the cached list and detail at once', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id);
    const listUrl = `/api/v1/products/?category=${cat.id}&limit=100`;
    expect((await listIds(listUrl)).ids).toContain(id);
    expect((await listIds(listUrl)).cache).toBe('hit');
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(200);

    const patch = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { is_active: false }, as: owner.user });
    expect(patch.statusCode).toBe(200);

    expect((await listIds(listUrl)).ids).not.toContain(id);
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(404);
  });

  it('hides a deleted product from the cached list and detail at once', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id);
    const listUrl = `/api/v1/products/?ordering=price&limit=100`;
    expect((await listIds(listUrl)).ids).toContain(id);
    await get(`/api/v1/products/${id}/`);
    expect((await get(`/api/v1/products/${id}/`)).headers['x-cache']).toBe('hit');

    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${id}/`, as: admin })).statusCode).toBe(204);

    expect((await listIds(listUrl)).ids).not.toContain(id);
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(404);
  });

  it('lists a new product as soon as its POST has answered', async () => {
    const listUrl = `/api/v1/products/?vendor=${owner.vendorId}&limit=100&ordering=-created_at`;
    await listIds(listUrl);
    expect((await listIds(listUrl)).cache).toBe('hit');
    const created = await ctx.request({
      method: 'POST',
      url: '/api/v1/products/',
      payload: { name: 'Fresh', unit_price: 100, stock: 1, category_id: cat.id },
      as: owner.user,
    });
    expect(created.statusCode).toBe(201);
    const after = await listIds(listUrl);
    expect(after.cache).toBe('miss');
    expect(after.ids[0]).toBe(created.json<Product>().id);
  });

  it('hides a vendor deactivated by direct SQL once the products generation is bumped', async () => {
    const vendor = await vendorWithProfile(ctx);
    const id = await insertProduct(ctx, vendor.vendorId, cat.id);
    const listUrl = `/api/v1/products/?vendor=${vendor.vendorId}`;
    expect((await listIds(listUrl)).ids).toEqual([id]);
    await get(`/api/v1/products/${id}/`);

    await ctx.db.updateTable('vendors').set({ is_active: false }).where('id', '=', vendor.vendorId).execute();
    // Without the bump the cached answers still stand: the cache is really in the path.
    const stale = await listIds(listUrl);
    expect(stale).toEqual({ ids: [id], cache: 'hit' });

    await createCache(ctx.redis, ctx.config.REDIS_PREFIX).bump('products');

    expect((await listIds(listUrl)).ids).toEqual([]);
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(404);
  });

  it('never caches an owner or admin view of an inactive product, nor serves it to the public', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Secret draft', is_active: false });
    for (const as of [owner.user, owner.user, admin]) {
      const res = await get(`/api/v1/products/${id}/`, as);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-cache']).toBe('miss');
    }
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(404);
    expect((await cachedValues()).some((v) => v?.includes(id))).toBe(false);
  });

  it('serves the public view from the cache to the owner too, identical to what the owner would load', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Shared view' });
    const anonymous = await get(`/api/v1/products/${id}/`);
    const asOwner = await get(`/api/v1/products/${id}/`, owner.user);
    expect(asOwner.headers['x-cache']).toBe('hit');
    expect(asOwner.json()).toEqual(anonymous.json());
  });
});

describe('catalog cache: a read racing a write', () => {
  let ctx: TestContext;
  let owner: VendorFixture;
  let cat: { id: string; slug: string };
  // Once armed, holds back the first cache operation after a miss (that is, after the database load),
  // so a write can commit and answer in between.
  let gate: { reached: () => void; opened: Promise<void>; missed: boolean } | null = null;
  const inner = memoryCache();
  const holdAfterMiss = async () => {
    const held = gate;
    if (!held?.missed) return;
    gate = null;
    held.reached();
    await held.opened;
  };
  const gatedCache: Cache = {
    kind: inner.kind,
    async lookup(ns, key) {
      const found = await inner.lookup(ns, key);
      if (gate && found.stored?.generation !== found.generation) gate.missed = true;
      return found;
    },
    async store(ns, key, generation, value, ttl) {
      await holdAfterMiss();
      await inner.store(ns, key, generation, value, ttl);
    },
    async generation(ns) {
      await holdAfterMiss();
      return inner.generation(ns);
    },
    bump: (...ns) => inner.bump(...ns),
  };

  beforeAll(async () => {
    ctx = await createTestContext({ deps: { cache: gatedCache } });
    owner = await vendorWithProfile(ctx);
    cat = await category(ctx);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('does not let a read that loaded before a delete serve the deleted product after the delete answered', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id);
    let release!: () => void;
    let reached!: () => void;
    const atStore = new Promise<void>((r) => (reached = r));
    gate = { reached, opened: new Promise<void>((r) => (release = r)), missed: false };
    const slowRead = ctx.request({ method: 'GET', url: `/api/v1/products/${id}/` });
    // The slow read has loaded the product and waits to store it.
    await atStore;

    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${id}/`, as: owner.user })).statusCode).toBe(204);
    release();
    expect((await slowRead).statusCode).toBe(200);

    const after = await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/` });
    expect(after.statusCode).toBe(404);
  });
});

describe('catalog cache keys: the parsed, normalised query and the base URL, nothing else', () => {
  let ctx: TestContext;
  let owner: VendorFixture;
  let admin: TestUser;
  let cat: { id: string; slug: string };

  beforeAll(async () => {
    ctx = await createTestContext({ redis: true });
    owner = await vendorWithProfile(ctx);
    admin = await ctx.user('admin');
    cat = await category(ctx);
    await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Brass lamp' });
    await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Oak lamp' });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => ctx.request({ method: 'GET', url, headers });
  const cacheEntries = async () => (await ctx.redis!.keys(`${ctx.config.REDIS_PREFIX}c:products:*`)).length;

  it('answers junk parameters, other spellings and another order from the same entry, with links free of junk', async () => {
    const base = `/api/v1/products/?vendor=${owner.vendorId}&q=lamp&limit=1&ordering=name`;
    const first = await get(base);
    expect(first.headers['x-cache']).toBe('miss');
    const entries = await cacheEntries();
    // Before: each of these was a new cache key (the raw URL was part of it), so junk bypassed the cache.
    for (const variant of [
      `${base}&utm_source=x&_=${Date.now()}`,
      `${base}&junk[]=1&junk[]=2`,
      `/api/v1/products?ordering=name&limit=01&q=%20lamp%20&vendor=${owner.vendorId}`,
      `/api/v1/products/?in_stock=false&vendor=${owner.vendorId}&q=lamp&limit=1&ordering=name&cache_buster=${Math.random()}`,
    ]) {
      const res = await get(variant);
      expect({ variant, status: res.statusCode, cache: res.headers['x-cache'] }).toEqual({ variant, status: 200, cache: 'hit' });
      expect(res.body).toBe(first.body);
    }
    expect(await cacheEntries()).toBe(entries);
    const next = new URL(first.json<{ next: string }>().next);
    expect([...next.searchParams.keys()]).toEqual(['vendor', 'q', 'ordering', 'limit', 'cursor']);
    expect(next.pathname).toBe('/api/v1/products/');
  });

  const aliases = async () => (await ctx.redis!.keys(`${ctx.config.REDIS_PREFIX}c:products:alias:*`)).length;

  it('answers a repeated canonical spelling from its alias before parsing, and makes none for other spellings', async () => {
    const url = `/api/v1/products/?vendor=${owner.vendorId}&q=oak&limit=3`;
    const before = await aliases();
    const first = await get(url);
    expect(first.headers['x-cache']).toBe('miss');
    expect(await aliases()).toBe(before + 1);
    // The same list in another order of its parameters, with a default spelled out: one more alias each.
    const reordered = await get(`/api/v1/products/?limit=3&ordering=-created_at&q=oak&vendor=${owner.vendorId}`);
    expect(reordered.headers['x-cache']).toBe('hit');
    expect(reordered.body).toBe(first.body);
    expect(await aliases()).toBe(before + 2);
    // Unknown, repeated or re-encoded parameters, another path spelling: served from the entry, no alias.
    for (const variant of [`${url}&junk=1`, `/api/v1/products/?vendor=${owner.vendorId}&q=%6Fak&limit=3`, `/api/v1/products?vendor=${owner.vendorId}&q=oak&limit=3`, `/api/v1/products/?vendor=${owner.vendorId}&q=oak&limit=03`]) {
      const res = await get(variant);
      expect({ variant, status: res.statusCode, cache: res.headers['x-cache'] }).toEqual({ variant, status: 200, cache: 'hit' });
    }
    // A repeated parameter is refused the long way (400), alias or not.
    expect((await get(`${url}&q=oak`)).statusCode).toBe(400);
    expect(await aliases()).toBe(before + 2);
    const second = await get(url);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body).toBe(first.body);
  });

  it('makes no alias for a caller with a token, nor for a product URL with a query or an upper-case id', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Alias lamp' });
    const before = await aliases();
    await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, as: owner.user });
    await get(`/api/v1/products/${id}/?x=1`);
    await get(`/api/v1/products/${id.toUpperCase()}/`);
    expect(await aliases()).toBe(before);
    await get(`/api/v1/products/${id}/`);
    expect(await aliases()).toBe(before + 1);
    expect((await get(`/api/v1/products/${id}/`)).headers['x-cache']).toBe('hit');
  });

  it('answers a bad Host 400 even where the same URL has an alias under a good one', async () => {
    const url = `/api/v1/products/?vendor=${owner.vendorId}&limit=2`;
    await get(url, { host: 'shop.example' });
    expect((await get(url, { host: 'shop.example' })).headers['x-cache']).toBe('hit');
    const bad = await get(url, { host: 'shop.example:99999' });
    expect(bad.statusCode).toBe(400);
  });

  it('retires aliases with the entries: a write answered is seen through a canonical spelling at once', async () => {
    const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Alias before' });
    const url = `/api/v1/products/${id}/`;
    await get(url);
    expect((await get(url)).headers['x-cache']).toBe('hit');
    const changed = await ctx.request({ method: 'PATCH', url, payload: { name: 'Alias after' }, as: owner.user });
    expect(changed.statusCode).toBe(200);
    const after = await get(url);
    expect(after.headers['x-cache']).toBe('miss');
    expect(after.json<{ name: string }>().name).toBe('Alias after');
  });

  it('still tells different filters apart', async () => {
    const a = await get(`/api/v1/products/?vendor=${owner.vendorId}&q=brass`);
    const b = await get(`/api/v1/products/?vendor=${owner.vendorId}&q=oak`);
    expect(b.headers['x-cache']).toBe('miss');
    expect(a.json<{ results: { name: string }[] }>().results.map((p) => p.name)).toEqual(['Brass lamp']);
    expect(b.json<{ results: { name: string }[] }>().results.map((p) => p.name)).toEqual(['Oak lamp']);
  });

  it('keeps one host\'s page links out of another host\'s answers', async () => {
    const url = `/api/v1/products/?vendor=${owner.vendorId}&limit=1&ordering=-price`;
    const a = await get(url, { host: 'a.example' });
    const b = await get(url, { host: 'b.example' });
    expect(b.headers['x-cache']).toBe('miss');
    expect(new URL(a.json<{ next: string }>().next).host).toBe('a.example');
    expect(new URL(b.json<{ next: string }>().next).host).toBe('b.example');
    expect((await get(url, { host: 'a.example' })).headers['x-cache']).toBe('hit');
  });

  it('hides the store of a deactivated vendor user from cached list and detail at once, and shows it again on reactivation', async () => {
    const vendor = await vendorWithProfile(ctx);
    const id = await insertProduct(ctx, vendor.vendorId, cat.id);
    const listUrl = `/api/v1/products/?vendor=${vendor.vendorId}`;
    const ids = async () => (await get(listUrl)).json<{ results: { id: string }[] }>().results.map((p) => p.id);
    expect(await ids()).toEqual([id]);
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(200);
    expect((await get(`/api/v1/products/${id}/`)).headers['x-cache']).toBe('hit');

    // Before: the vendor profile stayed active, so the products kept being listed and sold.
    const gone = await ctx.request({ method: 'DELETE', url: `/api/v1/users/${vendor.user.id}/`, as: admin });
    expect(gone.statusCode).toBe(204);
    expect(await ids()).toEqual([]);
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(404);
    expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, as: admin })).statusCode).toBe(200);

    const back = await ctx.request({ method: 'PATCH', url: `/api/v1/users/${vendor.user.id}/`, payload: { is_active: true }, as: admin });
    expect(back.statusCode).toBe(200);
    expect(await ids()).toEqual([id]);
    expect((await get(`/api/v1/products/${id}/`)).statusCode).toBe(200);
  });
});

describe('Redis cache: copies of entries kept in process, checked against the shared generation', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ redis: true });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('serves a copy without the shared bytes, and never one a bump in another process retired', async () => {
    const prefix = `copies-${Date.now()}:`;
    const a = redisCache(ctx.redis!, prefix);
    const b = redisCache(ctx.redis!, prefix);
    const body = Buffer.from('{"page":1}');
    const generation = (await a.lookup('products', 'k')).generation;
    await a.store('products', 'k', generation, body, 60);
    // b has no copy yet: it reads the shared entry and keeps a copy.
    expect((await b.lookup('products', 'k')).stored?.value.toString()).toBe('{"page":1}');
    // With the shared entry gone, both still answer from their copies while the generation holds…
    await ctx.redis!.del(`${prefix}c:products:k`);
    expect((await a.lookup('products', 'k')).stored?.value.toString()).toBe('{"page":1}');
    expect((await b.lookup('products', 'k')).stored?.value.toString()).toBe('{"page":1}');
    // …and neither serves it once the other process bumps.
    await a.bump('products');
    const seenByB = await b.lookup('products', 'k');
    expect(seenByB.generation).toBe(generation + 1);
    expect(seenByB.stored).toBeNull();
    expect((await a.lookup('products', 'k')).stored).toBeNull();
  });

  it('keeps a copy no longer than the shared entry lives', async () => {
    let now = 0;
    const prefix = `copies-ttl-${Date.now()}:`;
    const cache = redisCache(ctx.redis!, prefix, 2 ** 20, () => now);
    const { generation } = await cache.lookup('products', 'k');
    await cache.store('products', 'k', generation, Buffer.from('x'), 1);
    await ctx.redis!.del(`${prefix}c:products:k`);
    expect((await cache.lookup('products', 'k')).stored?.value.toString()).toBe('x');
    now += 1001;
    expect((await cache.lookup('products', 'k')).stored).toBeNull();
  });
});

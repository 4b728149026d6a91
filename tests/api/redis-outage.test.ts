import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../shell/app.js';
import { memoryCache, redisCache, type Cache } from '../../shell/cache.js';
import { loadConfig } from '../../shell/config.js';
import { markRedisSuspect, redisUsable, SUSPECT_MS } from '../../shell/redis.js';
import { createOrPromoteAdmin } from '../../shell/services/users.js';
import { createTestContext, type TestContext } from '../support/harness.js';
import { category, insertProduct, vendorWithProfile } from './product-fixtures.js';

/**
 * Redis unreachable while the cache generations live there (walked by hand before: reads took 30–46 s,
 * each cache call waiting out reconnects; a committed write answered 500 while other processes kept
 * serving what it changed).
 */

let t: TestContext;
const apps: FastifyInstance[] = [];
const clients: Redis[] = [];

/** A client whose first connection has failed (nothing listens on port 1); it keeps trying. */
async function unreachableRedis(): Promise<Redis> {
  const client = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 2, retryStrategy: () => 1000 });
  clients.push(client);
  client.on('error', () => undefined);
  // Watched from its creation, as connectRedis does.
  redisUsable(client);
  await new Promise<void>((resolve) => client.once('error', () => resolve()));
  return client;
}

async function appOn(redis: Redis | null, cache?: Cache): Promise<FastifyInstance> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: t.databaseUrl, RATE_LIMIT_ENABLED: 'false', UNDER_PRESSURE_ENABLED: 'false', REDIS_URL: 'redis://127.0.0.1:1' });
  const app = await buildApp(config, { db: t.db, redis, ...(cache ? { cache } : {}), logger: false });
  await app.ready();
  apps.push(app);
  return app;
}

beforeAll(async () => {
  t = await createTestContext({ redis: true });
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const client of clients) client.disconnect();
  await t?.close();
});

describe('Redis unreachable', () => {
  it('makes every cache call fail at once instead of waiting for a reconnect', async () => {
    const redis = await unreachableRedis();
    expect(redisUsable(redis)).toBe(false);
    const cache = redisCache(redis, 'outage:');
    await expect(cache.lookup('products', 'k')).rejects.toThrow('Redis is not reachable');
    await expect(cache.bump('products')).rejects.toThrow('Redis is not reachable');
  });

  it('still answers catalog reads and authenticated reads, from the database', async () => {
    const app = await appOn(await unreachableRedis());
    const owner = await vendorWithProfile(t);
    const id = await insertProduct(t, owner.vendorId, (await category(t)).id, { name: 'Outage lamp' });
    for (let i = 0; i < 2; i++) {
      const read = await app.inject({ method: 'GET', url: `/api/v1/products/${id}/` });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toMatchObject({ name: 'Outage lamp' });
    }
    const customer = await t.user('customer');
    expect((await app.inject({ method: 'GET', url: '/api/v1/users/me/', headers: customer.headers })).statusCode).toBe(200);
  });

  it('refuses writes with 503 busy before writing anything, and takes them again once Redis is back', async () => {
    const app = await appOn(await unreachableRedis());
    const owner = await vendorWithProfile(t);
    const id = await insertProduct(t, owner.vendorId, (await category(t)).id, { unit_price: 2580 });
    const refused = await app.inject({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { unit_price: 2581 }, headers: owner.user.headers });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toMatchObject({ code: 'busy' });
    const row = await t.db.selectFrom('products').select('unit_price').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.unit_price).toBe(2580);

    // The same app on a reachable Redis takes it.
    const working = await appOn(t.redis!);
    const taken = await working.inject({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { unit_price: 2581 }, headers: owner.user.headers });
    expect(taken.statusCode).toBe(200);
  });

  it('answers a committed write 2xx when the bump after it fails, and says so in the log', async () => {
    const failing: Cache = { ...memoryCache(), bump: () => Promise.reject(new Error('lost Redis mid-request')) };
    const app = await appOn(null, failing);
    const owner = await vendorWithProfile(t);
    const id = await insertProduct(t, owner.vendorId, (await category(t)).id, { unit_price: 100 });
    const changed = await app.inject({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { unit_price: 101 }, headers: owner.user.headers });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ unit_price: 101 });
  });
});

describe('Redis restarted empty, or hanging', () => {
  it('never lets a generation go back to a value entries were stored for (walked: a restart, then as many bumps, served the old copy)', async () => {
    const prefix = `restart-${Date.now()}:`;
    const cache = redisCache(t.redis!, prefix);
    await t.redis!.set(`${prefix}gen:products`, '5');
    await cache.store('products', 'k', 5, Buffer.from('before'), 60);
    expect((await cache.lookup('products', 'k')).stored?.value.toString()).toBe('before');
    // Redis comes back without the generation (its entries gone too): counting again from 0 would reach 5.
    await t.redis!.del(`${prefix}gen:products`, `${prefix}c:products:k`);
    for (let i = 0; i < 5; i++) await cache.bump('products');
    const after = await cache.lookup('products', 'k');
    expect(after.generation).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
    expect(after.stored).toBeNull();
    // A lookup that finds no generation starts it from the clock too.
    await t.redis!.del(`${prefix}gen:users`);
    expect(await cache.generation('users')).toBeGreaterThan(5);
  });

  it('refuses writes while a command has just failed on a connection that looks up, then takes them again', async () => {
    const client = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
    clients.push(client);
    client.on('error', () => undefined);
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const app = await appOn(client);
    const customer = await t.user('customer');
    markRedisSuspect(client);
    expect(redisUsable(client)).toBe(false);
    const refused = await app.inject({ method: 'PATCH', url: `/api/v1/users/${customer.id}/`, payload: { full_name: 'Suspect' }, headers: customer.headers });
    expect(refused.statusCode).toBe(503);
    markRedisSuspect(client, Date.now() - SUSPECT_MS);
    expect(redisUsable(client)).toBe(true);
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/users/${customer.id}/`, payload: { full_name: 'Back' }, headers: customer.headers })).statusCode).toBe(200);
  });
});

describe('create-admin promoting an existing user', () => {
  it('retires cached catalog answers too: a reactivated vendor user brings the store back at once', async () => {
    const cache = memoryCache();
    const before = await cache.generation('products');
    const vendor = await vendorWithProfile(t);
    await t.db.updateTable('users').set({ is_active: false }).where('id', '=', vendor.user.id).execute();
    const outcome = await createOrPromoteAdmin(t.db, cache, new Date(), { email: vendor.user.email, password: 'a-long-enough-password' });
    expect(outcome.action).toBe('promote');
    expect(await cache.generation('products')).toBe(before + 1);
    expect(await cache.generation('users')).toBe(1);
  });
});

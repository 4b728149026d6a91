import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../shell/app.js';
import { memoryCache } from '../../shell/cache.js';
import { loadConfig } from '../../shell/config.js';
import { RATE_LIMIT_SCOPES } from '../../shell/http/rate-limits.js';
import { signStripe } from '../../shell/payments/signatures.js';
import { createTestContext, TEST_PASSWORD, type TestContext, type TestUser } from '../support/harness.js';

/**
 * Scoped rate limits (API.md, Conventions). The main context runs the defaults on the real Redis; the
 * other apps share its database and get small limits (and their own Redis key prefix) where the test is
 * not about the defaults.
 */

let t: TestContext;
const extraApps: FastifyInstance[] = [];
const extraClients: Redis[] = [];
let prefixSeq = 0;

beforeAll(async () => {
  t = await createTestContext({ redis: true, env: { RATE_LIMIT_ENABLED: 'true' } });
});
afterAll(async () => {
  await Promise.all(extraApps.map((app) => app.close()));
  for (const client of extraClients) client.disconnect();
  await t.close();
});

/** Another API process on the same database; on the shared Redis (own key prefix) unless `redis` is given. */
async function appWith(env: Record<string, string>, redis: Redis | null | 'shared' = 'shared'): Promise<FastifyInstance> {
  const client = redis === 'shared' ? t.redis : redis;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: t.databaseUrl,
    RATE_LIMIT_ENABLED: 'true',
    // Under the harness's prefix, so its clean-up removes these keys too.
    REDIS_PREFIX: `${t.config.REDIS_PREFIX}app${++prefixSeq}:`,
    ...env,
  });
  const app = await buildApp(config, { db: t.db, redis: client, cache: memoryCache(), logger: false });
  await app.ready();
  extraApps.push(app);
  return app;
}

const call = (app: FastifyInstance, options: InjectOptions & { as?: TestUser }) => {
  const { as, ...rest } = options;
  return app.inject({ ...rest, headers: { ...(rest.headers ?? {}), ...(as ? as.headers : {}) } });
};
const login = (app: FastifyInstance, email: string, password: string, remoteAddress: string) =>
  app.inject({ method: 'POST', url: '/api/v1/login/', payload: { email, password }, remoteAddress });
const rateHeaders = (res: LightMyRequestResponse) => ({
  limit: res.headers['ratelimit-limit'],
  remaining: res.headers['ratelimit-remaining'],
  reset: res.headers['ratelimit-reset'],
  retryAfter: res.headers['retry-after'],
});

function expectRateLimited(res: LightMyRequestResponse, limit: number, windowSeconds: number): void {
  expect(res.statusCode).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status: 429, code: 'rate_limited' });
  const h = rateHeaders(res);
  expect(h.limit).toBe(String(limit));
  expect(h.remaining).toBe('0');
  expect(Number(h.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(h.retryAfter)).toBeLessThanOrEqual(windowSeconds);
  expect(h.reset).toBe(h.retryAfter);
}

describe('login: 5 per minute per IP and email, 30 per minute per IP (defaults, Redis)', () => {
  it('answers 429 from the 6th of 40 wrong-password logins for one email, with Retry-After and RateLimit-*; another user from another IP still logs in', async () => {
    const victim = await t.user('customer');
    const other = await t.user('customer');
    const attacker = '203.0.113.10';
    const answers: LightMyRequestResponse[] = [];
    for (let i = 0; i < 40; i++) {
      // The same address however it is spelled: case and surrounding spaces do not make a new counter.
      const email = i % 2 === 0 ? victim.email : `  ${victim.email.toUpperCase()} `;
      answers.push(await login(t.app, email, 'wrong-password-guess', attacker));
    }
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(35).fill(429));
    expect(answers.slice(0, 5).map((a) => a.headers['ratelimit-remaining'])).toEqual(['4', '3', '2', '1', '0']);
    expect(answers.slice(0, 5).every((a) => a.headers['ratelimit-limit'] === '5' && a.headers['retry-after'] === undefined)).toBe(true);
    for (const answer of answers.slice(5)) expectRateLimited(answer, 5, 60);

    // The right password does not get through either while the window lasts…
    expect((await login(t.app, victim.email, TEST_PASSWORD, attacker)).statusCode).toBe(429);
    // …but another user from another address is not affected.
    const fine = await login(t.app, other.email, TEST_PASSWORD, '198.51.100.7');
    expect(fine.statusCode).toBe(200);
    expect(rateHeaders(fine)).toMatchObject({ limit: '5', remaining: '4' });

    const sixth = answers[5]!;
    const runs: { status: number; from: number; to: number }[] = [];
    statuses.forEach((status, i) => {
      const last = runs.at(-1);
      if (last?.status === status) last.to = i + 1;
      else runs.push({ status, from: i + 1, to: i + 1 });
    });
    console.log(
      `40 wrong-password logins for ${victim.email} from ${attacker}: ${runs.map((r) => `#${r.from}-${r.to}: ${r.status}`).join(', ')}\n` +
        `6th: ${sixth.statusCode} content-type=${sixth.headers['content-type']} retry-after=${sixth.headers['retry-after']} ` +
        `ratelimit-limit=${sixth.headers['ratelimit-limit']} ratelimit-remaining=${sixth.headers['ratelimit-remaining']} ratelimit-reset=${sixth.headers['ratelimit-reset']}\n` +
        `6th body: ${sixth.body}\n` +
        `other user from 198.51.100.7: ${fine.statusCode} ratelimit-remaining=${fine.headers['ratelimit-remaining']}`,
    );
  });

  it('shares the count between two API processes on one Redis', async () => {
    const second = await buildApp(t.config, { db: t.db, redis: t.redis, cache: t.services.cache, logger: false });
    extraApps.push(second);
    await second.ready();
    const user = await t.user('customer');
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(i % 2 === 0 ? t.app : second, user.email, 'wrong-password-guess', '203.0.113.20')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(await t.redis!.keys(`${t.config.REDIS_PREFIX}rate-limit:*`)).not.toHaveLength(0);
  });

  it('limits one IP across emails (login_ip)', async () => {
    const app = await appWith({ RATE_LIMIT_LOGIN_IP_PER_MINUTE: '3' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await login(app, `nobody-${i}@example.test`, 'wrong-password-guess', '203.0.113.30')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await login(app, 'nobody-0@example.test', 'wrong-password-guess', '203.0.113.31')).statusCode).toBe(401);
  });

  it('sees the client behind a proxy only with TRUST_PROXY: a forged X-Forwarded-For changes nothing without it', async () => {
    const direct = await appWith({ RATE_LIMIT_LOGIN_IP_PER_MINUTE: '2' });
    const forged = [];
    for (let i = 0; i < 3; i++) {
      forged.push((await direct.inject({ method: 'POST', url: '/api/v1/login/', payload: { email: `x${i}@example.test`, password: 'wrong-password-guess' }, remoteAddress: '203.0.113.40', headers: { 'x-forwarded-for': `10.9.9.${i}` } })).statusCode);
    }
    expect(forged).toEqual([401, 401, 429]);

    const proxied = await appWith({ RATE_LIMIT_LOGIN_IP_PER_MINUTE: '2', TRUST_PROXY: 'true' });
    const viaProxy = (client: string, i: number) =>
      proxied.inject({ method: 'POST', url: '/api/v1/login/', payload: { email: `y${i}@example.test`, password: 'wrong-password-guess' }, remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': client } });
    expect([(await viaProxy('198.51.100.1', 1)).statusCode, (await viaProxy('198.51.100.1', 2)).statusCode, (await viaProxy('198.51.100.1', 3)).statusCode]).toEqual([401, 401, 429]);
    expect((await viaProxy('198.51.100.2', 4)).statusCode).toBe(401);
  });
});

describe('other scopes (small limits, Redis)', () => {
  it('limits sign-up per IP per hour; admins creating users are not counted', async () => {
    const app = await appWith({ RATE_LIMIT_SIGNUP_PER_HOUR: '2' });
    const signUp = (email: string, as?: TestUser) =>
      call(app, { method: 'POST', url: '/api/v1/users/', payload: { email, password: 'long-enough-password' }, remoteAddress: '203.0.113.50', ...(as ? { as } : {}) });
    const first = await signUp(`s1-${randomUUID()}@example.test`);
    const second = await signUp(`s2-${randomUUID()}@example.test`);
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(rateHeaders(first)).toMatchObject({ limit: '2', remaining: '1' });
    expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(60);
    expect(Number(first.headers['ratelimit-reset'])).toBeLessThanOrEqual(3600);
    const thirdEmail = `s3-${randomUUID()}@example.test`;
    const third = await signUp(thirdEmail);
    expectRateLimited(third, 2, 3600);
    expect(await t.db.selectFrom('users').select('id').where('email', '=', thirdEmail).executeTakeFirst()).toBeUndefined();

    const admin = await t.user('admin');
    const byAdmin = await signUp(`s4-${randomUUID()}@example.test`, admin);
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.headers['ratelimit-limit']).toBeUndefined();
  });

  it('limits token refresh per user, whichever login the token comes from; unknown tokens per IP', async () => {
    const app = await appWith({ RATE_LIMIT_REFRESH_PER_MINUTE: '2' });
    const user = await t.user('customer');
    const refresh = (token: string, remoteAddress = '203.0.113.60') => app.inject({ method: 'POST', url: '/api/v1/token/refresh/', payload: { refresh: token }, remoteAddress });
    const pairOf = async () => (await login(app, user.email, TEST_PASSWORD, '203.0.113.61')).json<{ refresh: string }>();

    const r1 = await refresh((await pairOf()).refresh);
    expect(r1.statusCode).toBe(200);
    expect(rateHeaders(r1)).toMatchObject({ limit: '2', remaining: '1' });
    expect((await refresh(r1.json<{ refresh: string }>().refresh, '203.0.113.62')).statusCode).toBe(200);
    // A third refresh for the same user, from a fresh login and another address: over.
    expectRateLimited(await refresh((await pairOf()).refresh, '203.0.113.63'), 2, 60);

    const unknown = [];
    for (let i = 0; i < 3; i++) unknown.push((await refresh(`never-issued-${i}`, '203.0.113.64')).statusCode);
    expect(unknown).toEqual([401, 401, 429]);
    expect((await refresh('never-issued', '203.0.113.65')).statusCode).toBe(401);
  });

  it('limits cart, checkout, order and payment writes per user, one budget across those routes', async () => {
    const app = await appWith({ RATE_LIMIT_WRITES_PER_MINUTE: '3' });
    const customer = await t.user('customer');
    const other = await t.user('customer');
    const writes = [
      await call(app, { method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: randomUUID(), quantity: 1 }, as: customer }),
      await call(app, { method: 'PATCH', url: '/api/v1/checkout/update/', payload: { contact_phone: '+2348000000000' }, as: customer }),
      await call(app, { method: 'POST', url: '/api/v1/checkout/cancel/', as: customer }),
    ];
    expect(writes.map((w) => w.statusCode)).not.toContain(429);
    expect(writes.map((w) => w.headers['ratelimit-remaining'])).toEqual(['2', '1', '0']);
    expectRateLimited(await call(app, { method: 'POST', url: '/api/v1/orders/create/', payload: {}, as: customer }), 3, 60);
    expectRateLimited(await call(app, { method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: randomUUID() }, as: customer, remoteAddress: '198.51.100.99' }), 3, 60);

    // Another user (same IP) has a budget of their own; reads are not writes; anonymous writes are 401, uncounted.
    const theirs = await call(app, { method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: randomUUID(), quantity: 1 }, as: other });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.headers['ratelimit-remaining']).toBe('2');
    const read = await call(app, { method: 'GET', url: '/api/v1/cart/', as: customer });
    expect(read.statusCode).toBe(200);
    expect(read.headers['ratelimit-limit']).toBeUndefined();
    expect((await call(app, { method: 'POST', url: '/api/v1/cart-items/', payload: {} })).statusCode).toBe(401);
  });

  it('limits catalog reads per IP across products, categories and vendors', async () => {
    const app = await appWith({ RATE_LIMIT_CATALOG_PER_MINUTE: '3' });
    const get = (url: string, remoteAddress = '203.0.113.70') => app.inject({ method: 'GET', url, remoteAddress });
    const reads = [await get('/api/v1/products/'), await get('/api/v1/categories'), await get('/api/v1/vendors/')];
    expect(reads.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(reads.map((r) => r.headers['ratelimit-remaining'])).toEqual(['2', '1', '0']);
    expect(reads[0]!.headers['ratelimit-limit']).toBe('3');
    expectRateLimited(await get(`/api/v1/products/${randomUUID()}/`), 3, 60);
    expect((await get('/api/v1/products/', '203.0.113.71')).statusCode).toBe(200);
  });

  it('limits webhooks only after failed signatures, per IP and provider', async () => {
    const secret = 'whsec_rate_limit_test';
    const app = await appWith({ RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE: '2', STRIPE_SECRET_KEY: 'sk_test_rate_limits', STRIPE_WEBHOOK_SECRET: secret });
    const body = () => JSON.stringify({ id: `evt_${randomUUID()}`, object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000), data: { object: { object: 'customer' } } });
    const deliver = (signature: (payload: string) => string, remoteAddress = '203.0.113.80') => {
      const payload = body();
      return app.inject({ method: 'POST', url: '/api/v1/payments/webhooks/stripe/', headers: { 'content-type': 'application/json', 'stripe-signature': signature(payload) }, payload, remoteAddress });
    };
    const good = (payload: string) => signStripe(payload, secret, Math.floor(Date.now() / 1000));
    const bad = (payload: string) => signStripe(payload, 'whsec_wrong', Math.floor(Date.now() / 1000));

    const signed = [];
    for (let i = 0; i < 5; i++) signed.push((await deliver(good)).statusCode);
    expect(signed).toEqual([200, 200, 200, 200, 200]);
    const forged = [await deliver(bad), await deliver(bad)];
    expect(forged.map((f) => f.statusCode)).toEqual([401, 401]);
    expect(forged.map((f) => f.headers['ratelimit-remaining'])).toEqual(['1', '0']);
    expectRateLimited(await deliver(bad), 2, 60);
    // Once over, that address is refused whatever it sends, until the window ends; other addresses are not.
    expectRateLimited(await deliver(good), 2, 60);
    expect((await deliver(good, '203.0.113.81')).statusCode).toBe(200);
  });
});

describe('stores and switches', () => {
  it('counts nothing with RATE_LIMIT_ENABLED=false', async () => {
    const app = await appWith({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_LOGIN_PER_MINUTE: '2', RATE_LIMIT_CATALOG_PER_MINUTE: '2' });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await login(app, 'someone@example.test', 'wrong-password-guess', '203.0.113.90'));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(401));
    expect(answers.every((a) => a.headers['ratelimit-limit'] === undefined)).toBe(true);
    for (let i = 0; i < 4; i++) expect((await app.inject({ method: 'GET', url: '/api/v1/products/' })).statusCode).toBe(200);
  });

  it('counts in process memory without Redis (each process its own count)', async () => {
    const one = await appWith({ RATE_LIMIT_LOGIN_PER_MINUTE: '2' }, null);
    const two = await appWith({ RATE_LIMIT_LOGIN_PER_MINUTE: '2' }, null);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await login(one, 'memory@example.test', 'wrong-password-guess', '203.0.113.100')).statusCode);
    expect(statuses).toEqual([401, 401, 429]);
    expect((await login(two, 'memory@example.test', 'wrong-password-guess', '203.0.113.100')).statusCode).toBe(401);
  });

  describe.each([
    // Redis refuses at once (connection refused, no offline queue)…
    ['refusing', () => new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })],
    // …or never answers (commands wait for a reconnect that does not come): the limiter gives up after 500 ms.
    ['hanging', () => new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => 1000 })],
  ])('Redis outage (%s): credentials fail closed, the rest fails open', (_kind, broken) => {
    let app: FastifyInstance;
    beforeAll(async () => {
      const client = broken();
      client.on('error', () => undefined);
      extraClients.push(client);
      app = await appWith({ RATE_LIMIT_CATALOG_PER_MINUTE: '1', RATE_LIMIT_WRITES_PER_MINUTE: '1' }, client);
    });

    it('answers 503 busy with Retry-After to login, sign-up and refresh', async () => {
      const answers = [
        await login(app, 'outage@example.test', 'wrong-password-guess', '203.0.113.110'),
        await app.inject({ method: 'POST', url: '/api/v1/users/', payload: { email: `o-${randomUUID()}@example.test`, password: 'long-enough-password' } }),
        await app.inject({ method: 'POST', url: '/api/v1/token/refresh/', payload: { refresh: 'whatever' } }),
      ];
      for (const res of answers) {
        expect(res.statusCode).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json()).toMatchObject({ code: 'busy' });
        expect(res.headers['retry-after']).toBe('5');
      }
    });

    it('serves catalog reads and writes without a limit', async () => {
      const customer = await t.user('customer');
      for (let i = 0; i < 2; i++) {
        const read = await app.inject({ method: 'GET', url: '/api/v1/products/', remoteAddress: '203.0.113.111' });
        expect(read.statusCode).toBe(200);
        expect(read.headers['ratelimit-limit']).toBeUndefined();
        expect((await call(app, { method: 'PATCH', url: '/api/v1/checkout/update/', payload: { contact_phone: '+2348000000000' }, as: customer })).statusCode).toBe(200);
      }
    });
  });
});

describe('OpenAPI', () => {
  it('documents 429 with Retry-After and the RateLimit-* headers on every limited route, 503 where the scope fails closed', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { description?: string; responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }> }>>;
    }>();
    let operations = 0;
    for (const [name, scope] of Object.entries(RATE_LIMIT_SCOPES)) {
      for (const route of scope.routes) {
        const [method, path] = route.split(' ') as [string, string];
        const operation = doc.paths[`/api/v1${path.replace(/:(\w+)/g, '{$1}')}`]?.[method.toLowerCase()];
        expect(operation, route).toBeDefined();
        operations++;
        const limited = operation!.responses['429'];
        expect(limited?.content?.['application/problem+json'], route).toBeDefined();
        expect(Object.keys(limited?.headers ?? {}), route).toEqual(expect.arrayContaining(['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']));
        const success = Object.entries(operation!.responses).find(([status]) => status.startsWith('2'))![1];
        expect(Object.keys(success.headers ?? {}), route).toEqual(expect.arrayContaining(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']));
        expect(operation!.description, route).toContain(`(scope ${name})`);
        if (scope.whenStoreFails === 'closed') expect(Object.keys(operation!.responses['503']?.headers ?? {}), route).toContain('Retry-After');
      }
    }
    expect(operations).toBeGreaterThanOrEqual(20);
  });
});

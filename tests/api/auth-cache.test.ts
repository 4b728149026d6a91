import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { USERS_NAMESPACE } from '../../shell/auth-cache.js';
import { memoryCache, redisCache, type Cache } from '../../shell/cache.js';
import { createTestContext, TEST_PASSWORD, type TestContext, type TestUser } from '../support/harness.js';
import { envWithout, runScript } from '../support/run-script.js';

/**
 * The users auth cache (shell/auth-cache.ts): an authenticated request reads its caller's role, is_active
 * and token_version from the cache, and every write that changes them retires the cache before it
 * answers, so cutting off a token still works at once. Each test first uses the token, so the facts it
 * checks against are the cached ones.
 */

const NEW_PASSWORD = 'a-brand-new-passphrase';
const mentionsUsers = (sql: string) => /\bfrom "users"|join "users"/.test(sql);

for (const kind of ['memory', 'redis'] as const) {
  describe(`users auth cache (${kind === 'redis' ? 'Redis' : 'in process'})`, () => {
    let ctx: TestContext;
    let admin: TestUser;
    const statements: string[] = [];

    beforeAll(async () => {
      ctx = await createTestContext({
        redis: kind === 'redis',
        log: (event) => {
          if (event.level === 'query') statements.push(event.query.sql);
        },
      });
      admin = await ctx.user('admin');
    });
    afterAll(async () => {
      await ctx?.close();
    });

    const notifications = (as: TestUser | string) =>
      ctx.request({ method: 'GET', url: '/api/v1/notifications/', headers: { authorization: typeof as === 'string' ? as : as.headers.authorization } });
    const patch = (id: string, payload: Record<string, unknown>, as: TestUser) => ctx.request({ method: 'PATCH', url: `/api/v1/users/${id}/`, payload, as });
    const login = (email: string, password = TEST_PASSWORD) => ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email, password } });

    /** The statements `work` ran that read the users table. */
    async function usersQueriesDuring(work: () => Promise<unknown>): Promise<string[]> {
      const from = statements.length;
      await work();
      return statements.slice(from).filter(mentionsUsers);
    }

    /** A customer whose token has been used once (so its facts are cached) and still works. */
    async function cachedCustomer(): Promise<TestUser> {
      const customer = await ctx.user('customer');
      expect((await notifications(customer)).statusCode).toBe(200);
      return customer;
    }

    it('reads the users row for the first request of a token, and not for the next ones', async () => {
      const customer = await ctx.user('customer');
      const first = await usersQueriesDuring(async () => expect((await notifications(customer)).statusCode).toBe(200));
      expect(first).toEqual([expect.stringMatching(/^select "role", "is_active", "token_version" from "users"/)]);
      for (let i = 0; i < 3; i++) {
        expect(await usersQueriesDuring(async () => expect((await notifications(customer)).statusCode).toBe(200))).toEqual([]);
      }
    });

    it('cuts off the old token at once when you change your password', async () => {
      const customer = await cachedCustomer();
      expect((await patch(customer.id, { password: NEW_PASSWORD, current_password: TEST_PASSWORD }, customer)).statusCode).toBe(200);
      expect((await notifications(customer)).statusCode).toBe(401);
    });

    it("cuts off the old token at once when an admin resets the user's password", async () => {
      const customer = await cachedCustomer();
      expect((await patch(customer.id, { password: NEW_PASSWORD }, admin)).statusCode).toBe(200);
      expect((await notifications(customer)).statusCode).toBe(401);
    });

    it("cuts off the old token at once when an admin changes the user's role, and the new token carries the new role", async () => {
      const customer = await cachedCustomer();
      expect((await patch(customer.id, { role: 'vendor' }, admin)).statusCode).toBe(200);
      expect((await notifications(customer)).statusCode).toBe(401);
      const session = (await login(customer.email)).json<{ access: string }>();
      const me = await ctx.request({ method: 'GET', url: '/api/v1/users/me/', headers: { authorization: `Bearer ${session.access}` } });
      expect(me.json()).toMatchObject({ role: 'vendor' });
    });

    it('cuts off the old token at once when an admin deactivates the user with PATCH is_active false', async () => {
      const customer = await cachedCustomer();
      expect((await patch(customer.id, { is_active: false }, admin)).statusCode).toBe(200);
      expect((await notifications(customer)).statusCode).toBe(401);
    });

    it('cuts off the old token at once when you deactivate yourself, and when an admin deactivates you', async () => {
      const self = await cachedCustomer();
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/users/${self.id}/`, as: self })).statusCode).toBe(204);
      expect((await notifications(self)).statusCode).toBe(401);
      const other = await cachedCustomer();
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/users/${other.id}/`, as: admin })).statusCode).toBe(204);
      expect((await notifications(other)).statusCode).toBe(401);
    });

    it('lets a reactivated user in at once, though their inactive state was cached', async () => {
      const customer = await cachedCustomer();
      expect((await patch(customer.id, { is_active: false }, admin)).statusCode).toBe(200);
      // A token of the current token version, refused (and its facts cached) while the user is inactive.
      const current = `Bearer ${ctx.tokenFor({ id: customer.id, role: 'customer', token_version: 1 })}`;
      expect((await notifications(current)).statusCode).toBe(401);
      expect((await notifications(current)).statusCode).toBe(401);
      expect((await patch(customer.id, { is_active: true }, admin)).statusCode).toBe(200);
      expect((await notifications(current)).statusCode).toBe(200);
    });

    it('keeps the cached facts through changes that are not about access (name, email)', async () => {
      const customer = await cachedCustomer();
      expect((await patch(customer.id, { full_name: 'Renamed', email: `renamed-${customer.id.slice(0, 8)}@example.test` }, customer)).statusCode).toBe(200);
      expect(await usersQueriesDuring(async () => expect((await notifications(customer)).statusCode).toBe(200))).toEqual([]);
    });

    it('never caches a user that does not exist: a token for an id created afterwards works at once', async () => {
      const id = randomUUID();
      const token = `Bearer ${ctx.tokenFor({ id, role: 'customer' })}`;
      expect((await notifications(token)).statusCode).toBe(401);
      expect((await notifications(token)).statusCode).toBe(401);
      const now = new Date();
      await ctx.db.insertInto('users').values({ id, email: `late-${id.slice(0, 8)}@example.test`, full_name: 'Late', password_hash: 'not-a-hash', role: 'customer', created_at: now, updated_at: now }).execute();
      expect((await notifications(token)).statusCode).toBe(200);
    });

    if (kind === 'redis') {
      it("keeps the entry in Redis under the 'users' namespace, with a short TTL", async () => {
        const customer = await cachedCustomer();
        const key = `${ctx.config.REDIS_PREFIX}c:${USERS_NAMESPACE}:${customer.id}`;
        const ttl = await ctx.redis!.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60);
      });

      it('create-admin given REDIS_URL cuts off a promoted user’s old token at once', async () => {
        const customer = await cachedCustomer();
        const out = await runCreateAdmin(['--email', customer.email, '--password', 'operator-password'], {
          DATABASE_URL: ctx.databaseUrl,
          REDIS_URL: inject('redisUrl')!,
          REDIS_PREFIX: ctx.config.REDIS_PREFIX,
        });
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        expect(out.stdout).toMatch(/their access tokens no longer work/);
        expect((await notifications(customer)).statusCode).toBe(401);
      });
    } else {
      it('create-admin without REDIS_URL says the old tokens stop working within the entry TTL', async () => {
        const customer = await ctx.user('customer');
        const out = await runCreateAdmin(['--email', customer.email, '--password', 'operator-password'], { DATABASE_URL: ctx.databaseUrl });
        expect(out.code).toBe(0);
        expect(out.stdout).toMatch(/stop working within 60 s/);
      });
    }
  });
}

function runCreateAdmin(args: string[], env: Record<string, string>) {
  return runScript('scripts/create-admin.ts', args, { ...envWithout(['DATABASE_URL', 'DATA_DIR', 'REDIS_URL', 'REDIS_PREFIX']), LOG_LEVEL: 'silent', ...env });
}

/**
 * A cache that, once armed, holds back the first users operation after a users miss (that is, after the
 * database load) until released, so a write can commit and answer between a reader's load and its store.
 */
function gated(inner: Cache) {
  let gate: { reached: () => void; opened: Promise<void>; missed: boolean } | null = null;
  const holdAfterMiss = async (ns: string) => {
    const held = gate;
    if (ns !== USERS_NAMESPACE || !held?.missed) return;
    gate = null;
    held.reached();
    await held.opened;
  };
  const cache: Cache = {
    kind: inner.kind,
    async lookup(ns, key) {
      const found = await inner.lookup(ns, key);
      if (gate && ns === USERS_NAMESPACE && found.stored?.generation !== found.generation) gate.missed = true;
      return found;
    },
    async store(ns, key, generation, value, ttl) {
      await holdAfterMiss(ns);
      await inner.store(ns, key, generation, value, ttl);
    },
    async generation(ns) {
      await holdAfterMiss(ns);
      return inner.generation(ns);
    },
    bump: (...ns) => inner.bump(...ns),
  };
  /** Arms the gate; resolves `atStore` when a reader that missed is about to store, and waits for `release`. */
  const arm = () => {
    let reached!: () => void;
    let release!: () => void;
    const atStore = new Promise<void>((r) => (reached = r));
    gate = { reached, opened: new Promise<void>((r) => (release = r)), missed: false };
    return { atStore, release };
  };
  return { cache, arm };
}

for (const kind of ['memory', 'redis'] as const) {
  describe(`users auth cache: a read racing a write (${kind === 'redis' ? 'Redis' : 'in process'})`, () => {
    let ctx: TestContext;
    let admin: TestUser;
    let redis: Redis | null = null;
    const prefix = `nexus-test:auth-race-${randomUUID().slice(0, 8)}:`;
    let gate: ReturnType<typeof gated>;

    beforeAll(async () => {
      if (kind === 'redis') {
        const url = inject('redisUrl');
        if (!url) throw new Error('This test needs Redis: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379)');
        redis = new Redis(url, { maxRetriesPerRequest: 2 });
      }
      gate = gated(redis ? redisCache(redis, prefix) : memoryCache());
      ctx = await createTestContext({ deps: { cache: gate.cache } });
      admin = await ctx.user('admin');
    });
    afterAll(async () => {
      await ctx?.close();
      if (redis) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
    });

    const notifications = (as: TestUser) => ctx.request({ method: 'GET', url: '/api/v1/notifications/', as });

    for (const [change, write] of [
      ['a deactivation', (user: TestUser) => ctx.request({ method: 'DELETE', url: `/api/v1/users/${user.id}/`, as: admin })],
      ['a role change', (user: TestUser) => ctx.request({ method: 'PATCH', url: `/api/v1/users/${user.id}/`, payload: { role: 'vendor' }, as: admin })],
      ['a password reset', (user: TestUser) => ctx.request({ method: 'PATCH', url: `/api/v1/users/${user.id}/`, payload: { password: NEW_PASSWORD }, as: admin })],
    ] as const) {
      it(`does not let a request that loaded the user before ${change} keep the old token working after it answered`, async () => {
        const customer = await ctx.user('customer');
        const { atStore, release } = gate.arm();
        const slow = notifications(customer);
        // The slow request has read the user's facts from the database and waits to cache them.
        await atStore;
        expect((await write(customer)).statusCode).toBeLessThan(300);
        release();
        // It was authenticated before the write answered: that is allowed.
        expect((await slow).statusCode).toBe(200);
        // What it stored must not outlive the write.
        expect((await notifications(customer)).statusCode).toBe(401);
      });
    }
  });
}

describe('users auth cache: a cache outage', () => {
  let ctx: TestContext;
  const inner = memoryCache();
  const broken: Cache = {
    kind: inner.kind,
    lookup: () => Promise.reject(new Error('cache down')),
    store: () => Promise.reject(new Error('cache down')),
    generation: () => Promise.reject(new Error('cache down')),
    bump: (...ns) => inner.bump(...ns),
  };

  beforeAll(async () => {
    ctx = await createTestContext({ deps: { cache: broken } });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('authenticates from the database, and deactivation still cuts the token off at once', async () => {
    const customer = await ctx.user('customer');
    for (let i = 0; i < 2; i++) expect((await ctx.request({ method: 'GET', url: '/api/v1/notifications/', as: customer })).statusCode).toBe(200);
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/users/${customer.id}/`, as: customer })).statusCode).toBe(204);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/notifications/', as: customer })).statusCode).toBe(401);
  });
});

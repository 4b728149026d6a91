import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hash } from '@node-rs/argon2';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import type { KyselyConfig } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import type { DB, Role } from '../../db/database.js';
import { buildApp, type AppDeps } from '../../shell/app.js';
import { loadConfig, type Config } from '../../shell/config.js';
import { createContext, type AppContext, type Logger } from '../../shell/context.js';
import { openPostgres, type DatabaseHandle } from '../../shell/db.js';

/**
 * Test harness for API tests: a fresh database per test file (cloned from the migrated template),
 * the app built with buildApp, and shortcuts to make users and call the API as them.
 */

function urlFor(name: string): string {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a fresh database cloned from the migrated template; returns its URL. */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `nexus_t_${inject('runId')}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  try {
    // Cloning needs the template idle; several files clone at once, so retry briefly on "being accessed".
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
        break;
      } catch (error) {
        if (attempt > 50 || !/being accessed/.test((error as Error).message)) throw error;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    url: urlFor(name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: inject('databaseUrl') });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

export const TEST_PASSWORD = 'correct-horse-battery';
let passwordHash: Promise<string> | undefined;
/** The argon2id hash of TEST_PASSWORD, computed once per file. */
export const testPasswordHash = () => (passwordHash ??= hash(TEST_PASSWORD));

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  password: string;
  token: string;
  /** Authorization header for inject. */
  headers: { authorization: string };
}

export interface TestContext {
  app: FastifyInstance;
  /** The context services run in (same database, clock, cache and adapters as the app). */
  services: AppContext;
  db: DB;
  config: Config;
  databaseUrl: string;
  redis: Redis | null;
  /** Current time as the app sees it; tests may move it with `clock.set()`/`clock.advance()`. */
  clock: { now(): Date; set(d: Date): void; advance(ms: number): void; real(): void };
  user(role: Role, fields?: { email?: string; full_name?: string; is_active?: boolean }): Promise<TestUser>;
  tokenFor(user: { id: string; role: Role; token_version?: number }): string;
  request(options: InjectOptions & { as?: TestUser }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Use the real Redis (TEST_REDIS_URL) for cache; the test is skipped by the caller if none. */
  redis?: boolean;
  deps?: Partial<AppDeps>;
  /** Kysely's log hook on the app's database (tests count queries with it). */
  log?: KyselyConfig['log'];
}

const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Builds a test context; call in beforeAll and close in afterAll. */
export async function createTestContext(options: HarnessOptions = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const redisUrl = options.redis ? inject('redisUrl') : null;
  if (options.redis && !redisUrl) throw new Error('This test needs Redis: set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379)');
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    RATE_LIMIT_ENABLED: 'false',
    // Load shedding would turn answers into 503s on a loaded CI machine; tests/api/connections.test.ts turns it on.
    UNDER_PRESSURE_ENABLED: 'false',
    ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: `nexus-test:${database.name}:` } : {}),
    ...options.env,
  });
  const handle: DatabaseHandle = openPostgres(database.url, 30, options.log);
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 2 }) : null;

  let fixed: Date | null = null;
  const clock = {
    now: () => (fixed ? new Date(fixed) : new Date()),
    set: (d: Date) => {
      fixed = new Date(d);
    },
    advance: (ms: number) => {
      fixed = new Date((fixed ?? new Date()).getTime() + ms);
    },
    real: () => {
      fixed = null;
    },
  };

  // One context for the app and for tests that call services directly, as a job or script would.
  const services = createContext(config, { db: handle.db, redis, now: clock.now, ...options.deps }, silentLogger);
  const app = await buildApp(config, { ...options.deps, db: handle.db, redis, now: clock.now, cache: services.cache, media: services.media, payments: services.payments, logger: false });
  await app.ready();

  const tokenFor = (u: { id: string; role: Role; token_version?: number }) =>
    app.signAccessToken({ id: u.id, role: u.role, token_version: u.token_version ?? 0 });

  const ctx: TestContext = {
    app,
    services,
    db: handle.db,
    config,
    databaseUrl: database.url,
    redis,
    clock,
    tokenFor,
    async user(role, fields = {}) {
      const id = randomUUID();
      const email = fields.email ?? `${role}-${id.slice(0, 8)}@example.test`;
      const now = new Date();
      await handle.db
        .insertInto('users')
        .values({
          id,
          email,
          full_name: fields.full_name ?? `Test ${role}`,
          password_hash: await testPasswordHash(),
          role,
          is_active: fields.is_active ?? true,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const token = tokenFor({ id, role });
      return { id, email, role, password: TEST_PASSWORD, token, headers: { authorization: `Bearer ${token}` } };
    },
    request({ as, ...options }) {
      const headers = { ...(options.headers ?? {}), ...(as ? as.headers : {}) };
      return app.inject({ ...options, headers });
    },
    async close() {
      await app.close();
      await handle.close();
      if (redis) {
        const keys = await redis.keys(`${config.REDIS_PREFIX}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
      await database.drop();
    },
  };
  return ctx;
}

/** Starts the test app on a free local port, for real parallel HTTP requests; returns the /api/v1 base URL. */
export async function listenOnFreePort(ctx: TestContext): Promise<string> {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}/api/v1`;
}

/** One real HTTP request to a listening app (see listenOnFreePort): JSON in, status and parsed body out. */
export async function callApi(base: string, method: string, path: string, as: TestUser, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & { code?: string } }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...as.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { code?: string } };
}

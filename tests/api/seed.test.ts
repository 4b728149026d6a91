import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../shell/app.js';
import { loadConfig } from '../../shell/config.js';
import { openPostgres, type DatabaseHandle } from '../../shell/db.js';
import { createTestDatabase } from '../support/harness.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe('npm run seed', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = openPostgres(database.url, 4);
  });

  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const seed = (...args: string[]) =>
    run(resolve(root, 'node_modules/.bin/tsx'), ['scripts/seed.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: database.url, NODE_ENV: 'development' } });

  const counts = async () => ({
    users: Number((await handle.db.selectFrom('users').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    vendors: Number((await handle.db.selectFrom('vendors').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    categories: Number((await handle.db.selectFrom('categories').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
    products: Number((await handle.db.selectFrom('products').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n),
  });

  it('loads a demo catalog plus generated products, prints the credentials, and changes nothing when run again', async () => {
    const first = await seed('--products', '1500');
    expect(first.stdout).toContain('admin@nexus.test');
    expect(first.stdout).toContain('customer@nexus.test');
    expect(first.stdout).toMatch(/^ {2}password {2}\S+$/m);
    const after = await counts();
    expect(after).toEqual({ users: 8, vendors: 6, categories: 10, products: 1800 });

    await seed('--products', '1500');
    expect(await counts()).toEqual(after);

    const password = /^ {2}password {2}(\S+)$/m.exec(first.stdout)![1]!;
    const admin = await handle.db.selectFrom('users').select(['role', 'password_hash']).where('email', '=', 'admin@nexus.test').executeTakeFirstOrThrow();
    expect(admin.role).toBe('admin');
    expect(await verify(admin.password_hash, password)).toBe(true);
  }, 120_000);

  it('leaves a catalog the API serves: valid products in every ordering', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url, RATE_LIMIT_ENABLED: 'false' });
    const app = await buildApp(config, { db: handle.db, logger: false });
    try {
      for (const ordering of ['-created_at', 'created_at', 'price', '-price', 'name']) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/products/?ordering=${ordering}&limit=100` });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json<{ results: unknown[] }>().results).toHaveLength(100);
      }
      const filtered = await app.inject({ method: 'GET', url: '/api/v1/products/?category=kitchen&q=bench&in_stock=true' });
      expect(filtered.statusCode).toBe(200);
      expect(filtered.json<{ results: unknown[] }>().results.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});

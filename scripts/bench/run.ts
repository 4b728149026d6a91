import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { buildApp } from '../../shell/app.js';
import type { Cache } from '../../shell/cache.js';
import { ConfigError, loadConfig } from '../../shell/config.js';
import { openDatabase, pendingMigrations } from '../../shell/db.js';
import { runCommand } from '../run-command.js';

type App = Awaited<ReturnType<typeof buildApp>>;

/**
 * Throughput of the catalog against a seeded PostgreSQL (npm run seed -- --products 100000):
 * GET /healthz as the baseline, then product lists with the cache disabled and enabled.
 *
 *   DATABASE_URL=postgres://… npm run bench [-- --duration 5 --connections 50]
 *
 * Two copies of the app listen on random ports of 127.0.0.1: one with the normal catalog cache
 * (Redis when REDIS_URL is set, else in-process) and one whose cache never stores, so "uncached" runs
 * every request against the database. autocannon runs as a child process so it does not share this
 * process's event loop with the server. Figures only; no assertions. Compare ratios within one run.
 */

const run = promisify(execFile);
const AUTOCANNON = resolve(import.meta.dirname, '../../node_modules/.bin/autocannon');

/** A cache that never stores: every read goes to the database. */
const disabledCache: Cache = {
  kind: 'memory',
  get: async () => null,
  set: async () => undefined,
  generation: async () => 0,
  bump: async () => undefined,
};

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`--${name}: expected a positive number`);
  return value;
}

async function measure(name: string, url: string, duration: number, connections: number): Promise<Figures> {
  // Warm up (JIT, pool, cache) before measuring.
  await run(AUTOCANNON, ['-j', '-c', String(connections), '-d', '1', url], { maxBuffer: 64 * 1024 * 1024 });
  const { stdout } = await run(AUTOCANNON, ['-j', '-c', String(connections), '-d', String(duration), url], { maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function listen(app: App): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

async function main(): Promise<number> {
  const duration = option('duration', 5);
  const connections = option('connections', 50);
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', RATE_LIMIT_ENABLED: 'false' });
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL: the bench runs against a seeded PostgreSQL');
  const database = await openDatabase(config);
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL) : null;
  const apps: App[] = [];
  try {
    const pending = await pendingMigrations(database.db);
    if (pending.length) throw new ConfigError(`DATABASE_URL: ${pending.length} pending migration(s); run npm run migrate and npm run seed first`);
    const products = await database.db.selectFrom('products').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const sample = await database.db.selectFrom('products').select('id').where('is_active', '=', true).where('deleted_at', 'is', null).orderBy('created_at', 'desc').executeTakeFirst();
    const category = await database.db.selectFrom('categories').select('slug').orderBy('slug').executeTakeFirst();

    const cachedApp = await buildApp(config, { db: database.db, redis, logger: false });
    const uncachedApp = await buildApp(config, { db: database.db, redis, cache: disabledCache, logger: false });
    apps.push(cachedApp, uncachedApp);
    const cached = await listen(cachedApp);
    const uncached = await listen(uncachedApp);

    process.stdout.write(
      `bench: ${Number(products.n).toLocaleString('en-US')} products, cache ${redis ? 'redis' : 'in-process'}, ${connections} connections, ${duration} s per run\n`,
    );
    const paths: [string, string][] = [
      ['list (default ordering)', '/api/v1/products/'],
      ['list ?q=walnut', '/api/v1/products/?q=walnut'],
      ['list ?category&ordering=price&in_stock', `/api/v1/products/?category=${category?.slug ?? 'kitchen'}&ordering=price&in_stock=true`],
      ...(sample ? ([['detail', `/api/v1/products/${sample.id}/`]] as [string, string][]) : []),
    ];

    const results: Figures[] = [await measure('GET /healthz (baseline)', `${cached}/healthz`, duration, connections)];
    for (const [name, path] of paths) {
      results.push(await measure(`${name} uncached`, `${uncached}${path}`, duration, connections));
      results.push(await measure(`${name} cached`, `${cached}${path}`, duration, connections));
    }

    const baseline = results[0]!.rps;
    process.stdout.write(`\n${'run'.padEnd(52)}${'req/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'vs healthz'.padStart(12)}${'non-2xx'.padStart(9)}\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.name.padEnd(52)}${r.rps.toFixed(0).padStart(10)}${r.p50.toFixed(0).padStart(9)}${r.p99.toFixed(0).padStart(9)}${`${((r.rps / baseline) * 100).toFixed(1)}%`.padStart(12)}${String(r.non2xx + r.errors).padStart(9)}\n`,
      );
    }
    for (let i = 1; i + 1 < results.length; i += 2) {
      const [u, c] = [results[i]!, results[i + 1]!];
      process.stdout.write(`cached/uncached ${u.name.replace(/ uncached$/, '')}: ${(c.rps / u.rps).toFixed(1)}x\n`);
    }
    return 0;
  } finally {
    for (const app of apps) await app.close();
    redis?.disconnect();
    await database.close();
  }
}

runCommand('bench', main);

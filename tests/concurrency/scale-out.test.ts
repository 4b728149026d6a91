import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commerceContext, createProduct, insertConfirmedCheckout, stockOf, type Catalog, type ProductFixture } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';
import { dropPrefix, ensureBuilt, freePort, insertOrders, killHard, startNode, statusCounts, stopGracefully, uniquePrefix, waitUntil, type ChildRun } from '../support/job-fixtures.js';

/**
 * DESIGN.md "Scale", proven: three API processes (`node dist/shell/server.js`, each its own PORT) and two
 * workers (`node dist/shell/jobs/worker.js`) on one PostgreSQL database and one Redis (a prefix of the
 * test's own). Every guarantee a single process gives holds across them; per-process state is only an
 * optimisation in front of a shared one. Then `npm start`'s WEB_CONCURRENCY: what it refuses, a cluster
 * that restarts a dead worker and stops gracefully on SIGTERM.
 */

const SERVER = 'dist/shell/server.js';
const WORKER = 'dist/shell/jobs/worker.js';
const LOGIN_LIMIT = 5;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { code?: string };
}

const summary = (line: string) => console.info(`scale-out: ${line}`);

describe('three API processes and two workers on one PostgreSQL and one Redis', () => {
  let ctx: TestContext;
  let catalog: Catalog;
  let prefix: string;
  const apis: { base: string; run: ChildRun }[] = [];
  const workers: ChildRun[] = [];
  const others: ChildRun[] = [];

  /** The environment of an API process of this test; `extra` adds or overrides (undefined removes). */
  const apiEnv = (port: number, extra: Record<string, string | undefined> = {}): Record<string, string> => {
    const env: Record<string, string | undefined> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: ctx.databaseUrl,
      DATABASE_POOL_SIZE: '6',
      REDIS_URL: ctx.config.REDIS_URL!,
      REDIS_PREFIX: prefix,
      // The harness's secret: the tokens of ctx.user() are valid on every process.
      JWT_SECRET: ctx.config.JWT_SECRET,
      JOBS_MODE: 'queue',
      // One public base URL, as behind a load balancer: catalog answers are cached per base URL.
      PUBLIC_URL: 'http://shop.test',
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_LOGIN_PER_MINUTE: String(LOGIN_LIMIT),
      // Load shedding would turn answers into 503s on a loaded CI machine.
      UNDER_PRESSURE_ENABLED: 'false',
      ...extra,
    };
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  };

  async function call(base: string, method: string, path: string, options: { as?: TestUser; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { ...options.as?.headers, ...options.headers, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
  }
  const api = (i: number) => apis[i % apis.length]!.base;

  async function ready(base: string, run: ChildRun): Promise<void> {
    await waitUntil(`${base}/readyz (output: ${run.output().slice(-1500)})`, async () => {
      if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.output()}`);
      return (await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false)) || null;
    }, 30_000, 100);
  }

  beforeAll(async () => {
    await ensureBuilt();
    ({ ctx, catalog } = await commerceContext({ redis: true }));
    prefix = uniquePrefix();
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      apis.push({ base: `http://127.0.0.1:${port}`, run: startNode(SERVER, apiEnv(port)) });
    }
    for (let i = 0; i < 2; i++) {
      workers.push(startNode(WORKER, {
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: ctx.databaseUrl,
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: ctx.config.REDIS_URL!,
        REDIS_PREFIX: prefix,
        JOBS_SWEEP_SECONDS: '1',
        JWT_SECRET: ctx.config.JWT_SECRET,
      }));
    }
    await Promise.all(apis.map((a) => ready(a.base, a.run)));
    await Promise.all(workers.map((w) => waitUntil(`worker started (output: ${w.output().slice(-1500)})`, async () => w.output().includes('worker started'), 30_000, 100)));
  }, 120_000);

  afterAll(async () => {
    for (const run of [...apis.map((a) => a.run), ...workers, ...others]) await killHard(run);
    if (ctx?.redis && prefix) await dropPrefix(ctx.redis, prefix);
    await ctx?.close();
  });

  it('a product deactivated through one process is 404 on the others as soon as the write has answered', async () => {
    for (let writer = 0; writer < 3; writer++) {
      const product = await createProduct(ctx.db, catalog, { stock: 5 });
      const readers = [writer + 1, writer + 2];
      // Cached in Redis by the writer's process; the others answer from that shared cache.
      expect((await call(api(writer), 'GET', `/products/${product.id}/`)).headers.get('x-cache')).toBe('miss');
      for (const r of readers) {
        const cached = await call(api(r), 'GET', `/products/${product.id}/`);
        expect(cached.status).toBe(200);
        expect(cached.headers.get('x-cache')).toBe('hit');
      }
      const patch = await call(api(writer), 'PATCH', `/products/${product.id}/`, { as: catalog.vendorUser, body: { is_active: false } });
      expect(patch.status, JSON.stringify(patch.body)).toBe(200);
      for (const r of readers) expect((await call(api(r), 'GET', `/products/${product.id}/`)).status).toBe(404);
      const list = await call(api(writer + 1), 'GET', `/products/?limit=100`);
      expect((list.body.results as { id: string }[]).map((p) => p.id)).not.toContain(product.id);
    }
    summary('catalog: 3 products, each cached (X-Cache: hit) on all three processes, deactivated through one → 404 on the other two at once');
  });

  it('a hot product (stock 20) bought by 60 customers spread over the three processes sells exactly its stock, no 5xx', async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 20 });
    const customers = await Promise.all(Array.from({ length: 60 }, () => ctx.user('customer')));
    for (const c of customers) await insertConfirmedCheckout(ctx.db, c.id, product, 1, ctx.config.CHECKOUT_TTL_SECONDS);

    const started = performance.now();
    const answers = await Promise.all(customers.map((c, i) => call(api(i), 'POST', '/orders/create/', { as: c }).then((a) => ({ ...a, process: i % 3 }))));
    const ms = Math.round(performance.now() - started);

    expect(answers.filter((a) => a.status >= 500).map((a) => a.body)).toEqual([]);
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(20);
    expect(answers.filter((a) => a.status === 409 && a.body.code === 'insufficient_stock')).toHaveLength(40);
    expect(await stockOf(ctx.db, product.id)).toBe(0);
    const lines = await ctx.db.selectFrom('order_items').select(['order_id', 'quantity']).where('product_id', '=', product.id).execute();
    expect(lines).toHaveLength(20);
    expect(new Set(lines.map((l) => l.order_id))).toEqual(new Set(created.map((a) => a.body.id)));
    const perProcess = [0, 1, 2].map((p) => created.filter((a) => a.process === p).length);
    summary(`hot product: 60 orders over 3 processes in ${ms} ms → 20 created (${perProcess.join('/')} per process), 40 insufficient_stock, 0 5xx, stock 0`);
  });

  it('an Idempotency-Key replayed on another process answers the first response', async () => {
    const product = await createProduct(ctx.db, catalog, { stock: 5 });
    const customer = await ctx.user('customer');
    await insertConfirmedCheckout(ctx.db, customer.id, product, 1, ctx.config.CHECKOUT_TTL_SECONDS);
    const headers = { 'idempotency-key': `scale-${randomUUID()}` };

    const first = await call(api(0), 'POST', '/orders/create/', { as: customer, headers });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const p of [1, 2]) {
      const replay = await call(api(p), 'POST', '/orders/create/', { as: customer, headers });
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
    }
    expect(await ctx.db.selectFrom('orders').select('id').where('customer_id', '=', customer.id).execute()).toEqual([{ id: first.body.id }]);
    expect(await stockOf(ctx.db, product.id)).toBe(4);
    summary('idempotency: order made on process 1, the same key on processes 2 and 3 → 201 Idempotent-Replayed: true, same body, one order');
  });

  it('the login rate limit is counted across processes', async () => {
    const user = await ctx.user('customer');
    const wrong = { email: user.email, password: 'not-the-password' };
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMIT; i++) statuses.push((await call(api(i % 2), 'POST', '/login/', { body: wrong })).status);
    expect(statuses).toEqual(Array(LOGIN_LIMIT).fill(401));
    const sixth = await call(api(2), 'POST', '/login/', { body: wrong });
    expect(sixth.status).toBe(429);
    expect(sixth.body.code).toBe('rate_limited');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    // The right password too: the limit is per client and email, wherever it is counted.
    expect((await call(api(2), 'POST', '/login/', { body: { email: user.email, password: user.password } })).status).toBe(429);
    summary(`login rate limit: ${LOGIN_LIMIT} wrong logins on processes 1 and 2 → 401; the 6th, on process 3 → 429 with Retry-After`);
  });

  it('expiry runs once per order with two workers: N due orders → N expired, stock exact, N outbox rows', async () => {
    const N = 300;
    const products: ProductFixture[] = [];
    for (let i = 0; i < 3; i++) products.push(await createProduct(ctx.db, catalog, { stock: 1000 }));
    const customer = await ctx.user('customer');
    const due = new Date(Date.now() + 2000);
    const orderIds = await insertOrders(ctx.db, { customerId: customer.id, count: N, paymentDueBy: due, lines: (i) => [{ product: products[i % 3]!, quantity: 1 + (i % 2) }] });
    // Read (and cached) while the orders hold their stock.
    const before = await call(api(0), 'GET', `/products/${products[0]!.id}/`);
    expect(before.body.stock).toBeLessThan(1000);
    expect((await call(api(1), 'GET', `/products/${products[0]!.id}/`)).headers.get('x-cache')).toBe('hit');

    const expiredCount = async () =>
      Number((await ctx.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('id', 'in', orderIds).where('status', '=', 'expired').executeTakeFirstOrThrow()).n);
    await waitUntil(`all ${N} expired`, async () => (await expiredCount()) === N, 40_000, 100);
    // What each worker says it expired (its `job expire done` log lines): together exactly N.
    const expiredBy = (w: ChildRun) =>
      w
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { job?: string; expired?: number })
        .filter((entry) => entry.job === 'expire')
        .reduce((n, entry) => n + (entry.expired ?? 0), 0);
    await waitUntil('the workers to report their expiry runs', async () => workers.reduce((n, w) => n + expiredBy(w), 0) >= N, 10_000, 100);

    expect(await statusCounts(ctx.db, orderIds)).toEqual({ expired: N });
    for (const p of products) expect(await stockOf(ctx.db, p.id)).toBe(1000);
    const outbox = await ctx.db.selectFrom('outbox').select(['subject_id', 'kind']).where('subject_id', 'in', orderIds).execute();
    expect(outbox).toHaveLength(N);
    expect(new Set(outbox.map((o) => o.subject_id)).size).toBe(N);
    expect(outbox.every((o) => o.kind === 'order_expired')).toBe(true);
    const byWorker = workers.map(expiredBy);
    expect(byWorker.reduce((a, b) => a + b, 0)).toBe(N);
    // The workers invalidated the shared cache: every API process shows the stock back.
    for (const p of [1, 2]) expect((await call(api(p), 'GET', `/products/${products[0]!.id}/`)).body.stock).toBe(1000);
    summary(`expiry: ${N} due orders, 2 workers → ${N} expired (${byWorker.join(' + ')} per worker), stock exact, ${N} outbox rows; the API processes show the stock back`);
  });

  it('npm start with WEB_CONCURRENCY: refusals, a cluster that replaces a dead worker and stops gracefully on SIGTERM', async () => {
    // The three single API processes stop gracefully on SIGTERM.
    const codes = await Promise.all(apis.map((a) => stopGracefully(a.run)));
    expect(codes).toEqual([0, 0, 0]);

    // Refused at start, one line each.
    const dataDir = mkdtempSync(join(tmpdir(), 'nexus-scale-'));
    try {
      const refusals = await Promise.all([
        apiEnv(0, { WEB_CONCURRENCY: '2', DATABASE_URL: undefined, REDIS_URL: undefined, JOBS_MODE: undefined, DATA_DIR: dataDir }),
        apiEnv(0, { WEB_CONCURRENCY: '2', REDIS_URL: undefined, JOBS_MODE: undefined }),
      ].map(async (env) => {
        const run = startNode(SERVER, env);
        others.push(run);
        expect(await run.exited).toBe(1);
        return run.output().trim();
      }));
      expect(refusals[0]).toMatch(/^configuration error: WEB_CONCURRENCY: 2 processes need DATABASE_URL \(the embedded database can be opened by one process only\)$/);
      expect(refusals[1]).toMatch(/^configuration error: WEB_CONCURRENCY: 2 processes need REDIS_URL \(.*\)$/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }

    // Without Redis, a second API process on the same database is refused (after waiting for the first to stop).
    const soloPort = await freePort();
    const solo = startNode(SERVER, apiEnv(soloPort, { REDIS_URL: undefined, JOBS_MODE: 'off' }));
    others.push(solo);
    await ready(`http://127.0.0.1:${soloPort}`, solo);
    const second = startNode(SERVER, apiEnv(0, { REDIS_URL: undefined, JOBS_MODE: 'off' }));
    others.push(second);
    const secondExit = second.exited;

    // A cluster of two workers behind one port.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const primary = startNode(SERVER, apiEnv(port, { WEB_CONCURRENCY: '2', LOG_LEVEL: 'info', DATABASE_POOL_SIZE: '4' }));
    others.push(primary);
    const logOf = () =>
      primary
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{') && line.includes('"process":"primary"'))
        .map((line) => JSON.parse(line) as { msg: string; workerPid?: number });
    const listening = () => logOf().filter((l) => l.msg === 'API worker listening');
    await waitUntil(`two workers listening (output: ${primary.output().slice(-2000)})`, async () => listening().length === 2, 30_000, 100);
    await ready(base, primary);
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/healthz`).then((r) => r.status)));
    expect(answers).toEqual(Array(20).fill(200));

    const [victim, survivor] = listening().map((l) => l.workerPid) as [number, number];
    process.kill(victim, 'SIGKILL');
    await waitUntil(`a replacement worker (output: ${primary.output().slice(-2000)})`, async () => listening().length === 3, 20_000, 100);
    expect(logOf().some((l) => l.msg === 'an API worker died; starting a replacement')).toBe(true);
    const replacement = listening()[2]!.workerPid!;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const stoppedIn = performance.now();
    expect(await stopGracefully(primary)).toBe(0);
    const stopMs = Math.round(performance.now() - stoppedIn);
    expect(logOf().some((l) => l.msg === 'all API workers stopped')).toBe(true);
    for (const pid of [survivor, replacement]) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(primary.output()).toContain('asked by the cluster primary');

    expect(await secondExit).toBe(1);
    expect(second.output().trim().split('\n').at(-1)).toMatch(/^configuration error: REDIS_URL: another API process serves .* without Redis; more than one API process needs REDIS_URL/);
    expect(await stopGracefully(solo)).toBe(0);

    summary('processes: SIGTERM stops each API process (exit 0); WEB_CONCURRENCY=2 refused without DATABASE_URL and without REDIS_URL; a 2nd API process without Redis refused');
    summary(`cluster: WEB_CONCURRENCY=2 serves on one port; a SIGKILLed worker replaced; SIGTERM to the primary stops both workers gracefully (exit 0 in ${stopMs} ms)`);
  }, 120_000);
});

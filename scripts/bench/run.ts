import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { extname, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../shell/config.js';
import { runCommand } from '../run-command.js';
import { Cannon, Client, closedLoop, combineRounds, percentile, Tally, type Answer, type Figures } from './load.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile.js';
import type { FromServer, ServeMode, StaticRoute, ToServer } from './serve.js';
import * as baseline from './sql-baseline.js';
import { accessToken, createWorld, LOCAL_POSTGRES, type World } from './world.js';

/**
 * npm run bench: every scenario next to its baseline, measured in the same run (absolute figures on a
 * shared machine are noise; the ratios are the result).
 *
 *   npm run bench                       default run (~4 min): 5 s per scenario, in 3 rounds interleaved
 *                                       with its baselines, after 1 s of warm-up
 *   npm run bench -- --quick            under a minute: 1 s per scenario in one round
 *   npm run bench -- --duration 15 --connections 50 --products 10000
 *   npm run bench -- --only purchase --profile    one group, with a CPU profile of the API process
 *
 * Groups: reads (product list first/filtered/deep page and a product: uncached, cached in Redis and cached in process, against bare
 * node:http and a bare Fastify route answering the same bytes from memory), reads-wc2 (the cached reads
 * through `shell/server.ts` with WEB_CONCURRENCY=2), cart (add-to-cart by many customers at once against
 * the same writes by hand over pg), purchase (the whole purchase as orders per second, same baseline),
 * hot (500 customers buying 1 unit each of a product with stock 100).
 *
 * It creates its own database (`nexus_bench`, dropped at the end unless --keep) on the PostgreSQL server of
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432), and uses REDIS_URL (default
 * redis://127.0.0.1:6379) under its own key prefix, deleted at the end. Rate limits are off. Prints one
 * table, writes JSON under bench/results/, and exits 1 on any 5xx or broken invariant.
 */

const GROUPS = ['reads', 'reads-wc2', 'cart', 'purchase', 'hot'] as const;
type Group = (typeof GROUPS)[number];
// From sources (npm run bench, through tsx) or compiled (dist/scripts/bench/run.js): children alike.
const EXT = extname(import.meta.filename);
const TSX = EXT === '.ts' ? ['--import', 'tsx'] : [];
const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = resolve(process.cwd(), 'bench/results');

interface Options {
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  products: number;
  history: number;
  hotCustomers: number;
  hotStock: number;
  groups: Set<Group>;
  profile: boolean;
  keep: boolean;
  database: string;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const number = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    if (i === -1) return fallback;
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value) || value < 0) throw new ConfigError(`--${name}: expected a non-negative number`);
    return value;
  };
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt === -1 ? [...GROUPS] : (argv[onlyAt + 1] ?? '').split(',');
  for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) throw new ConfigError(`--only: ${g} is not one of ${GROUPS.join(', ')}`);
  const dbAt = argv.indexOf('--db');
  return {
    duration: number('duration', quick ? 1 : 5),
    warmup: number('warmup', quick ? 0.3 : 1),
    rounds: Math.max(1, Math.round(number('rounds', quick ? 1 : 3))),
    connections: number('connections', 50),
    products: number('products', quick ? 2000 : 10_000),
    history: number('history', quick ? 5000 : 20_000),
    hotCustomers: number('hot-customers', 500),
    hotStock: number('hot-stock', 100),
    groups: new Set(only as Group[]),
    profile: argv.includes('--profile'),
    keep: argv.includes('--keep'),
    database: dbAt === -1 ? 'nexus_bench' : (argv[dbAt + 1] ?? ''),
  };
}

const out = (line = '') => process.stdout.write(`${line}\n`);

/** A server under test in its own process (scripts/bench/serve.ts). */
class ServerProcess {
  private constructor(
    readonly mode: ServeMode,
    private readonly child: ChildProcess,
    readonly base: string,
  ) {}

  static async start(mode: ServeMode, env: NodeJS.ProcessEnv, options: { routes?: StaticRoute[]; profileDir?: string } = {}): Promise<ServerProcess> {
    const execArgv = [...TSX, ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir, mode)}`] : [])];
    const child = fork(resolve(import.meta.dirname, `serve${EXT}`), [mode], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (options.routes) child.send({ type: 'routes', routes: options.routes } satisfies ToServer);
    const port = await new Promise<number>((resolvePort, reject) => {
      child.once('exit', (code) => reject(new Error(`server ${mode} exited with ${code} before listening`)));
      child.on('message', (m: FromServer) => {
        if (m.type === 'listening') resolvePort(m.port);
      });
    });
    return new ServerProcess(mode, child, `http://127.0.0.1:${port}`);
  }

  stats(): Promise<{ queries: number; retries: number; retriedStatements: Record<string, number> }> {
    return new Promise((resolveStats) => {
      const onMessage = (m: FromServer) => {
        if (m.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolveStats({ queries: m.queries, retries: m.retries, retriedStatements: m.retriedStatements });
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' } satisfies ToServer);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'stop' } satisfies ToServer);
    await exited;
  }
}

/** `shell/server.ts` itself (npm start), with WEB_CONCURRENCY workers on a free port. */
async function startServerEntry(env: NodeJS.ProcessEnv): Promise<{ base: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((r) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => r(p));
    });
  });
  const child = spawn(process.execPath, [...TSX, resolve(ROOT, `shell/server${EXT}`)], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`shell/server.ts exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('shell/server.ts did not answer /healthz within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Row {
  group: Group;
  scenario: string;
  /** The row this one is compared with (same run), or null for a baseline. */
  baseline: string | null;
  figures: Figures;
  ratio: number | null;
  /** Database queries per operation, counted in the API process. */
  queriesPerOp: number | null;
  target?: number;
  /** Said of a row without a ratio target (the hot product's latency). */
  verdict?: string;
  note?: string;
}

interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

function retryNote(retries: number, operations: number, retried: string): string | undefined {
  if (retries === 0) return undefined;
  return `${retries} serialization retries in ${operations} operations (${retried})`;
}

const ADDRESS = { line1: '1 Bench Street', city: 'Springfield', postal_code: '12345', country: 'US' };

/** The whole purchase through the API as one customer; the latency of each step and whether it completed. */
async function purchaseOverHttp(client: Client, tally: Tally, token: string, productId: string, on?: { create?: (a: Answer) => void }): Promise<{ ok: boolean; stopped?: number }> {
  const api = '/api/v1';
  const step = async (method: string, path: string, body?: unknown) => tally.answer(await client.call(method, `${api}${path}`, token, body));
  const add = await step('POST', '/cart-items/', { product_id: productId, quantity: 1 });
  if (add.status !== 201 && add.status !== 200) return { ok: false, stopped: add.status };
  const update = await step('PATCH', '/checkout/update/', { shipping_address: ADDRESS });
  if (update.status !== 200) return { ok: false, stopped: update.status };
  const confirm = await step('POST', '/checkout/confirm/');
  if (confirm.status !== 200) return { ok: false, stopped: confirm.status };
  const order = await step('POST', '/orders/create/');
  on?.create?.(order);
  if (order.status !== 201) return { ok: false, stopped: order.status };
  const initiate = await step('POST', '/payments/initiate/', { order_id: order.body!.id });
  if (initiate.status !== 201) return { ok: false, stopped: initiate.status };
  const paid = await step('POST', '/payments/confirm/', { reference: initiate.body!.reference });
  if (paid.status !== 200 || paid.body?.status !== 'succeeded') return { ok: false, stopped: paid.status };
  return { ok: true };
}

async function machine(world: World, redis: Redis | null) {
  const pgVersion = (await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(world.handle.db)).rows[0]?.v ?? '?';
  const redisVersion = redis ? (/redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?') : null;
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}`,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    redis: redisVersion,
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', RATE_LIMIT_ENABLED: 'false', NODE_ENV: 'development' });
  const serverUrl = config.DATABASE_URL ?? LOCAL_POSTGRES;
  const redisUrl = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `nexus-bench:${process.pid}:`;
  const c = options.connections;
  const started = Date.now();

  out(`bench: creating ${options.database} on ${new URL(serverUrl).host} with ${options.products.toLocaleString('en-US')} products and ${options.history.toLocaleString('en-US')} past orders…`);
  const world = await createWorld({
    serverUrl,
    name: options.database,
    products: options.products,
    history: options.history,
    connections: c,
    hotCustomers: options.hotCustomers,
    hotStock: options.hotStock,
    cursorSecret: config.JWT_SECRET,
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const cannon = new Cannon();
  const servers: ServerProcess[] = [];
  const rows: Row[] = [];
  const invariants: Invariant[] = [];
  const notes: string[] = [];
  const profiles: Record<string, ProfileSummary> = {};
  const profileDir = options.profile ? resolve(RESULTS, `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATABASE_URL: world.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    JOBS_MODE: 'off',
    PAYMENT_PROVIDER: 'fake',
  };
  const tokenOf = (id: string) => accessToken(config.JWT_SECRET, { id, role: 'customer' });
  /** Measured seconds per scenario: `rounds` rounds of duration/rounds each. */
  const measured = options.duration;
  const perRound = options.duration / options.rounds;
  /** Autocannon on each URL, round after round (warm-up before the first), so noise falls on all alike. */
  const interleaved = async (urls: string[]): Promise<Figures[]> => {
    const rounds: Figures[][] = urls.map(() => []);
    for (let r = 0; r < options.rounds; r++) {
      for (const [i, url] of urls.entries()) rounds[i]!.push(await cannon.measure(url, { connections: c, duration: perRound, warmup: r === 0 ? options.warmup : 0 }));
    }
    return rounds.map(combineRounds);
  };
  /** Closed loops of `c` customers, one scenario after the other, round after round, into their tallies. */
  const writeRounds = async (scenarios: [Tally, (worker: number) => Promise<number | null>][]): Promise<void> => {
    for (let r = 0; r < options.rounds; r++) {
      for (const [tally, operation] of scenarios) await closedLoop(c, perRound, r === 0 ? options.warmup : 0, operation, tally);
    }
  };

  try {
    const info = await machine(world, redis);
    out(`machine: ${info.cpu}, ${info.memory_gb} GB, Node ${info.node}, PostgreSQL ${info.postgres}, Redis ${info.redis}`);
    out(`${c} connections/customers; each scenario ${options.duration} s in ${options.rounds} round(s) interleaved with its baselines, after ${options.warmup} s warm-up; API pool ${config.DATABASE_POOL_SIZE}`);

    const app = await ServerProcess.start('app', env, profileDir ? { profileDir } : {});
    servers.push(app);
    const queriesDuring = async <T>(work: () => Promise<T>): Promise<[T, number, number, string]> => {
      const before = await app.stats();
      const result = await work();
      const after = await app.stats();
      const retried = Object.entries(after.retriedStatements)
        .map(([statement, n]) => [statement, n - (before.retriedStatements[statement] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([statement, n]) => `${n}× ${statement}`)
        .join('; ');
      return [result, after.queries - before.queries, after.retries - before.retries, retried];
    };

    // ---- reads -------------------------------------------------------------------------------------
    const reads: [string, string][] = [
      ['list: first page', '/api/v1/products/'],
      ['list: filtered page', `/api/v1/products/?category=${world.categorySlug}&ordering=price&in_stock=true`],
      ['list: deep cursor page', `/api/v1/products/?cursor=${world.deepCursor}`],
      ['product detail', `/api/v1/products/${world.detailId}/`],
    ];
    const bodies: StaticRoute[] = [];
    if (options.groups.has('reads') || options.groups.has('reads-wc2')) {
      for (const [name, path] of reads) {
        const res = await fetch(`${app.base}${path}`);
        if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
        bodies.push({ path, contentType: res.headers.get('content-type') ?? 'application/json', body: await res.text() });
      }
    }
    if (options.groups.has('reads')) {
      const uncached = await ServerProcess.start('app-uncached', env, profileDir ? { profileDir } : {});
      const memory = await ServerProcess.start('app-memory', env);
      const bareHttp = await ServerProcess.start('bare-http', env, { routes: bodies });
      const bareFastify = await ServerProcess.start('bare-fastify', env, { routes: bodies });
      servers.push(uncached, memory, bareHttp, bareFastify);
      for (const [i, [name, path]] of reads.entries()) {
        out(`reads: ${name} (${bodies[i]!.body.length.toLocaleString('en-US')} bytes)`);
        const [[bare, fastify, miss, hit, local], queries] = await queriesDuring(() => interleaved([bareHttp, bareFastify, uncached, app, memory].map((s) => `${s.base}${path}`)));
        const base = `${name} · bare node:http`;
        rows.push({ group: 'reads', scenario: base, baseline: null, figures: bare!, ratio: null, queriesPerOp: null });
        rows.push({ group: 'reads', scenario: `${name} · bare Fastify`, baseline: base, figures: fastify!, ratio: fastify!.rps / bare!.rps, queriesPerOp: null });
        rows.push({ group: 'reads', scenario: `${name} · API uncached`, baseline: base, figures: miss!, ratio: miss!.rps / bare!.rps, queriesPerOp: null });
        rows.push({ group: 'reads', scenario: `${name} · API cached (Redis)`, baseline: base, figures: hit!, ratio: hit!.rps / bare!.rps, queriesPerOp: queries / Math.max(1, hit!.operations), target: 0.5 });
        rows.push({ group: 'reads', scenario: `${name} · API cached (in process)`, baseline: base, figures: local!, ratio: local!.rps / bare!.rps, queriesPerOp: null, target: 0.5 });
        const check = await fetch(`${app.base}${path}`);
        await check.arrayBuffer();
        invariants.push({ name: `${name}: cached run answered from the cache`, ok: check.headers.get('x-cache') === 'hit', detail: `X-Cache: ${check.headers.get('x-cache')}` });
      }
      for (const s of [uncached, memory, bareHttp, bareFastify]) await s.stop();
    }

    if (options.groups.has('reads-wc2')) {
      const bareHttp = await ServerProcess.start('bare-http', env, { routes: bodies });
      servers.push(bareHttp);
      let cluster: { base: string; stop(): Promise<void> } | null = null;
      try {
        cluster = await startServerEntry({ ...env, WEB_CONCURRENCY: '2' });
      } catch (error) {
        notes.push(`reads with WEB_CONCURRENCY=2 not run: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (cluster) {
        for (const [name, path] of reads) {
          out(`reads, WEB_CONCURRENCY=2: ${name}`);
          const [bare, hit] = await interleaved([`${bareHttp.base}${path}`, `${cluster.base}${path}`]);
          const base = `${name} · bare node:http (wc2 run)`;
          rows.push({ group: 'reads-wc2', scenario: base, baseline: null, figures: bare!, ratio: null, queriesPerOp: null });
          rows.push({ group: 'reads-wc2', scenario: `${name} · API cached, WEB_CONCURRENCY=2`, baseline: base, figures: hit!, ratio: hit!.rps / bare!.rps, queriesPerOp: null });
        }
        notes.push('WEB_CONCURRENCY=2 runs npm start (shell/server.ts) itself; its cache cannot be turned off from outside, so only cached reads are measured that way');
        await cluster.stop();
      }
      await bareHttp.stop();
    }

    // The baseline's pool is the API's size. Index scans only, as the API's SERIALIZABLE transactions do
    // (a sequential scan would predicate-lock a whole table), set once per connection: no round trip.
    const pool = new pg.Pool({ connectionString: world.url, max: config.DATABASE_POOL_SIZE, options: '-c enable_seqscan=off' });
    pool.on('error', () => undefined);
    // Statements the baseline sends (BEGIN and COMMIT included), for its queries-per-operation column.
    let sqlStatements = 0;
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        sqlStatements++;
        return query(...args);
      };
    });
    /** The baseline's statements and retries from here on: call the result to read them. */
    const sqlSince = () => {
      const [statements, retries] = [sqlStatements, baseline.baselineStats.retries];
      return () => ({ statements: sqlStatements - statements, retries: baseline.baselineStats.retries - retries });
    };
    const sqlNote = (retries: number, operations: number) => (retries === 0 ? undefined : `${retries} serialization retries in ${operations} operations`);
    try {
      // ---- add-to-cart ------------------------------------------------------------------------------
      if (options.groups.has('cart')) {
        out('writes: add-to-cart');
        const products = world.cartProducts;
        let n = 0;
        const client = new Client(app.base, c);
        const tokens = world.customers.cart.map(tokenOf);
        const sqlTally = new Tally();
        const tally = new Tally();
        const sqlDone = sqlSince();
        const [, queries, retries, retried] = await queriesDuring(() =>
          writeRounds([
            [sqlTally, async (worker) => {
              const t = performance.now();
              await baseline.addToCart(pool, world.customers.sqlCart[worker]!, products[n++ % products.length]!, 1);
              return performance.now() - t;
            }],
            [tally, async (worker) => {
              const a = tally.answer(await client.call('POST', '/api/v1/cart-items/', tokens[worker]!, { product_id: products[n++ % products.length], quantity: 1 }));
              return a.status === 201 || a.status === 200 ? a.ms : null;
            }],
          ]),
        );
        client.close();
        const [sqlFigures, figures] = [sqlTally.figures(measured), tally.figures(measured)];
        const base = 'add-to-cart · SQL by hand over pg';
        const sqlCounts = sqlDone();
        rows.push({ group: 'cart', scenario: base, baseline: null, figures: sqlFigures, ratio: null, queriesPerOp: sqlCounts.statements / Math.max(1, sqlFigures.operations), note: sqlNote(sqlCounts.retries, sqlFigures.operations) });
        const ops = Math.max(1, tally.answered);
        rows.push({ group: 'cart', scenario: 'add-to-cart · API', baseline: base, figures, ratio: figures.rps / sqlFigures.rps, queriesPerOp: queries / ops, target: 0.5, note: retryNote(retries, ops, retried) });
      }

      // ---- the whole purchase -----------------------------------------------------------------------
      if (options.groups.has('purchase')) {
        out('writes: whole purchase (add → checkout update → confirm → order → payment initiate → confirm)');
        const client = new Client(app.base, c);
        const tokens = world.customers.purchase.map(tokenOf);
        const sqlTally = new Tally();
        const tally = new Tally();
        let attempts = 0;
        const sqlDone = sqlSince();
        const [, queries, retries, retried] = await queriesDuring(() =>
          writeRounds([
            [sqlTally, async (worker) => {
              const t = performance.now();
              await baseline.purchase(pool, world.customers.sqlPurchase[worker]!, world.sqlPurchaseProducts[worker]!);
              return performance.now() - t;
            }],
            [tally, async (worker) => {
              const t = performance.now();
              attempts++;
              const result = await purchaseOverHttp(client, tally, tokens[worker]!, world.purchaseProducts[worker]!);
              // A purchase stopped midway leaves a confirmed checkout: reopen it so the next one can start.
              if (!result.ok) tally.answer(await client.call('POST', '/api/v1/checkout/cancel/', tokens[worker]!));
              return result.ok ? performance.now() - t : null;
            }],
          ]),
        );
        client.close();
        const [sqlFigures, figures] = [sqlTally.figures(measured), tally.figures(measured)];
        const base = 'purchase (orders/s) · SQL by hand over pg';
        const sqlCounts = sqlDone();
        rows.push({ group: 'purchase', scenario: base, baseline: null, figures: sqlFigures, ratio: null, queriesPerOp: sqlCounts.statements / Math.max(1, sqlFigures.operations), note: sqlNote(sqlCounts.retries, sqlFigures.operations) });
        rows.push({ group: 'purchase', scenario: 'purchase (orders/s) · API', baseline: base, figures, ratio: figures.rps / sqlFigures.rps, queriesPerOp: queries / Math.max(1, attempts), target: 0.5, note: retryNote(retries, attempts, retried) });
      }
    } finally {
      await pool.end();
    }

    // ---- hot product --------------------------------------------------------------------------------
    if (options.groups.has('hot')) {
      out(`writes: hot product (${options.hotCustomers} customers, 1 unit each, stock ${options.hotStock})`);
      const client = new Client(app.base, options.hotCustomers);
      const tally = new Tally();
      const creates: number[] = [];
      const outcomes = new Map<string, number>();
      const t0 = performance.now();
      const [, queries, retries, retried] = await queriesDuring(() =>
        Promise.all(
          world.customers.hot.map(async (id) => {
            const result = await purchaseOverHttp(client, tally, tokenOf(id), world.hotProduct, { create: (a) => creates.push(a.ms) });
            const key = result.ok ? 'bought' : `stopped with ${result.stopped}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }),
        ),
      );
      const seconds = (performance.now() - t0) / 1000;
      client.close();
      const sold = await sql<{ orders: number; units: number; paid: number }>`
        SELECT count(DISTINCT o.id)::int AS orders, coalesce(sum(i.quantity), 0)::int AS units, count(DISTINCT o.id) FILTER (WHERE o.status = 'paid')::int AS paid
        FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.product_id = ${world.hotProduct}`.execute(world.handle.db);
      const s = sold.rows[0]!;
      const expected = Math.min(options.hotStock, options.hotCustomers);
      const sorted = creates.sort((a, b) => a - b);
      const figures: Figures = { rps: s.orders / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), non2xx: tally.non2xx, fivexx: tally.fivexx, operations: s.orders };
      const summary = [...outcomes.entries()].map(([k, v]) => `${v} ${k}`).join(', ');
      rows.push({
        group: 'hot',
        scenario: `hot product · API (orders/s; p50/p99 of order create)`,
        baseline: null,
        figures,
        ratio: null,
        queriesPerOp: queries / options.hotCustomers,
        note: `${s.orders} orders (${s.units} units, ${s.paid} paid) of stock ${options.hotStock}; ${retries} serialization retries = ${(retries / Math.max(1, s.orders)).toFixed(2)} per order${retried ? ` (${retried})` : ''}; ${summary}; ${seconds.toFixed(1)} s`,
      });
      rows[rows.length - 1]!.verdict = `p99 < 2 s ${figures.p99 < 2000 ? 'met' : 'NOT met'}`;
      invariants.push({ name: `hot product: exactly ${expected} sold`, ok: s.orders === expected && s.units === expected, detail: `${s.orders} orders, ${s.units} units` });
    }

    // ---- invariants over everything written ---------------------------------------------------------
    const db = world.handle.db;
    const negative = await db.selectFrom('products').select('id').where('stock', '<', 0).execute();
    invariants.push({ name: 'no product below zero stock', ok: negative.length === 0, detail: `${negative.length} products` });
    const oversold = await sql<{ id: string; sold: number; taken: number }>`
      SELECT p.id, coalesce(sum(i.quantity) FILTER (WHERE o.status IN ('pending_payment', 'paid')), 0)::int AS sold, (s.initial - p.stock)::int AS taken
      FROM products p JOIN (VALUES ${sql.join([...world.cartProducts, ...world.purchaseProducts, ...world.sqlPurchaseProducts].map((id) => sql`(${id}::uuid, ${1_000_000}::int)`).concat([sql`(${world.hotProduct}::uuid, ${world.hotStock}::int)`]))}) AS s(id, initial) ON s.id = p.id
      LEFT JOIN order_items i ON i.product_id = p.id LEFT JOIN orders o ON o.id = i.order_id
      GROUP BY p.id, s.initial, p.stock HAVING coalesce(sum(i.quantity) FILTER (WHERE o.status IN ('pending_payment', 'paid')), 0) <> s.initial - p.stock`.execute(db);
    invariants.push({ name: 'stock taken equals units ordered, product by product (nothing oversold or lost)', ok: oversold.rows.length === 0, detail: `${oversold.rows.length} products differ` });
    const duplicates = await sql<{ n: number }>`SELECT count(*)::int AS n FROM (SELECT order_id FROM payments WHERE status = 'succeeded' GROUP BY order_id HAVING count(*) > 1) d`.execute(db);
    invariants.push({ name: 'no order paid by two payments', ok: duplicates.rows[0]!.n === 0, detail: `${duplicates.rows[0]!.n} orders` });
    const unmatched = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM orders o
      WHERE (o.status = 'paid') <> EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id AND p.status = 'succeeded')`.execute(db);
    invariants.push({ name: 'every paid order has its succeeded payment and no other order has one', ok: unmatched.rows[0]!.n === 0, detail: `${unmatched.rows[0]!.n} orders` });

    for (const s of servers) await s.stop();
    servers.length = 0;
    if (profileDir) {
      // One directory per server; its main thread's profile is CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile
      // (tsx's module loader runs on a thread of its own).
      for (const mode of readdirSync(profileDir)) {
        const main = readdirSync(resolve(profileDir, mode)).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
        if (main) profiles[mode] = summariseProfile(resolve(profileDir, mode, main));
      }
    }

    // ---- report -------------------------------------------------------------------------------------
    const fivexx = rows.reduce((sum, r) => sum + r.figures.fivexx, 0);
    out();
    out(`${'scenario'.padEnd(62)}${'req/s'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'non-2xx'.padStart(9)}${'5xx'.padStart(6)}${'q/op'.padStart(6)}${'ratio'.padStart(8)}  target`);
    for (const r of rows) {
      const f = r.figures;
      const ratio = r.ratio === null ? 'base' : `${r.ratio.toFixed(2)}×`;
      const target = r.target === undefined ? (r.verdict ?? '') : `≥${r.target}× ${r.ratio !== null && r.ratio >= r.target ? 'met' : 'NOT met'}`;
      out(
        `${r.scenario.padEnd(62)}${f.rps.toFixed(0).padStart(9)}${f.p50.toFixed(1).padStart(8)}${f.p99.toFixed(1).padStart(8)}${String(f.non2xx).padStart(9)}${String(f.fivexx).padStart(6)}${(r.queriesPerOp === null ? '' : r.queriesPerOp.toFixed(1)).padStart(6)}${ratio.padStart(8)}  ${target}`,
      );
      if (r.note) out(`    ${r.note}`);
    }
    out();
    for (const i of invariants) out(`${i.ok ? 'ok  ' : 'FAIL'}  ${i.name} (${i.detail})`);
    for (const n of notes) out(`note: ${n}`);
    for (const [mode, profile] of Object.entries(profiles)) out(`\n${mode}: ${formatProfile(profile)}`);
    if (profileDir) out(`(profile files in ${profileDir})`);

    mkdirSync(RESULTS, { recursive: true });
    const file = resolve(RESULTS, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ machine: info, options: { ...options, groups: [...options.groups] }, seconds: (Date.now() - started) / 1000, rows, invariants, notes, profiles }, null, 2)}\n`);
    out(`\nresults: ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    const broken = invariants.filter((i) => !i.ok).length;
    if (fivexx > 0 || broken > 0) {
      out(`bench FAILED: ${fivexx} 5xx answers, ${broken} broken invariant(s)`);
      return 1;
    }
    return 0;
  } finally {
    cannon.close();
    for (const s of servers) await s.stop().catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    if (options.keep) {
      await world.handle.close();
      out(`kept database ${world.url}`);
    } else await world.drop();
  }
}

const USAGE = `usage: npm run bench [-- options]
       node dist/scripts/bench/run.js [options]     (compiled)

  --quick                  under a minute: 1 s per scenario in 1 round, shorter warm-ups, smaller database
  --duration <s>           measured seconds per scenario (default 5)
  --rounds <n>             rounds each scenario's seconds are split into, interleaved with its baselines (default 3)
  --warmup <s>             seconds of warm-up before each scenario's first round (default 1)
  --connections <n>        concurrent connections, and customers writing at once (default 50)
  --products <n>           products in the bench database (default 10000)
  --history <n>            past paid orders in the bench database (default 20000)
  --hot-customers <n>      customers in the hot-product group (default 500)
  --hot-stock <n>          stock of the hot product (default 100)
  --only <group,…>         ${GROUPS.join(', ')}
  --profile                CPU profile of the API process
  --keep                   keep the bench database
  --db <name>              bench database name (default nexus_bench)

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432) and Redis (REDIS_URL).`;

runCommand('bench', main, USAGE);

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { DB } from '../../db/database.js';
import { ADDRESS, type ProductFixture } from './commerce-fixtures.js';

/**
 * Rows and processes for the background-job tests: many orders written directly (what createOrder would
 * leave, stock taken), a unique BullMQ prefix per test, the compiled worker run as a child process.
 */

export const ROOT = resolve(import.meta.dirname, '../..');

/** A BullMQ/Redis prefix of its own, so tests never see each other's queues. */
export const uniquePrefix = () => `nexus-test:${randomBytes(5).toString('hex')}:`;

/** Deletes every Redis key under `prefix` (the queue's, the cache's). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}

export interface OrderLine {
  product: ProductFixture;
  quantity: number;
}

/**
 * Writes `count` orders of `lines` for the customer with their carts (closed) and checkouts (completed),
 * and takes their stock, in one transaction: as if createOrder had run `count` times. `status: 'paid'`
 * writes paid orders; `lines` may be a function of the order's index. Returns the order ids.
 */
export async function insertOrders(
  db: DB,
  options: { customerId: string; count: number; lines: OrderLine[] | ((i: number) => OrderLine[]); status?: 'pending_payment' | 'paid'; paymentDueBy: Date; createdAt?: Date },
): Promise<string[]> {
  const status = options.status ?? 'pending_payment';
  const createdAt = options.createdAt ?? new Date(options.paymentDueBy.getTime() - 60_000);
  const linesOf = typeof options.lines === 'function' ? options.lines : () => options.lines as OrderLine[];
  const ids: string[] = [];
  const taken = new Map<string, number>();
  await db.transaction().execute(async (trx) => {
    for (let start = 0; start < options.count; start += 250) {
      const carts = [];
      const checkouts = [];
      const orders = [];
      const items = [];
      for (let i = start; i < Math.min(options.count, start + 250); i++) {
        const lines = linesOf(i);
        const cartId = randomUUID();
        const checkoutId = randomUUID();
        const orderId = randomUUID();
        ids.push(orderId);
        const frozen = lines.map((l) => ({ product_id: l.product.id, vendor_id: l.product.vendor_id, name: l.product.name, unit_price: l.product.unit_price, quantity: l.quantity, line_total: l.product.unit_price * l.quantity }));
        const total = frozen.reduce((s, f) => s + f.line_total, 0);
        carts.push({ id: cartId, customer_id: options.customerId, status: 'closed' as const, created_at: createdAt, closed_at: createdAt });
        checkouts.push({
          id: checkoutId,
          cart_id: cartId,
          customer_id: options.customerId,
          status: 'completed' as const,
          shipping_address: JSON.stringify(ADDRESS),
          frozen_items: JSON.stringify(frozen),
          subtotal: total,
          total,
          confirmed_at: createdAt,
          expires_at: new Date(createdAt.getTime() + 900_000),
          created_at: createdAt,
          updated_at: createdAt,
        });
        orders.push({
          id: orderId,
          customer_id: options.customerId,
          checkout_id: checkoutId,
          status,
          subtotal: total,
          total,
          currency: 'USD',
          shipping_address: JSON.stringify(ADDRESS),
          payment_due_by: options.paymentDueBy,
          paid_at: status === 'paid' ? createdAt : null,
          created_at: createdAt,
          updated_at: createdAt,
        });
        for (const f of frozen) {
          items.push({ id: randomUUID(), order_id: orderId, product_id: f.product_id, vendor_id: f.vendor_id, name: f.name, unit_price: f.unit_price, quantity: f.quantity, line_total: f.line_total });
          taken.set(f.product_id, (taken.get(f.product_id) ?? 0) + f.quantity);
        }
      }
      await trx.insertInto('carts').values(carts).execute();
      await trx.insertInto('checkouts').values(checkouts).execute();
      await trx.insertInto('orders').values(orders).execute();
      await trx.insertInto('order_items').values(items).execute();
    }
    for (const [productId, quantity] of taken) {
      const row = await trx.updateTable('products').set((eb) => ({ stock: eb('stock', '-', quantity) })).where('id', '=', productId).where('stock', '>=', quantity).returning('stock').executeTakeFirst();
      if (!row) throw new Error(`insertOrders: not enough stock of ${productId} for ${quantity}`);
    }
  });
  return ids;
}

/** Per product: units held by the product's orders in each status. */
export async function unitsByStatus(db: DB, productIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
  const rows = await db
    .selectFrom('order_items as i')
    .innerJoin('orders as o', 'o.id', 'i.order_id')
    .select((eb) => ['i.product_id', 'o.status', eb.fn.sum<number>('i.quantity').as('units')])
    .where('i.product_id', 'in', [...productIds])
    .groupBy(['i.product_id', 'o.status'])
    .execute();
  const result = new Map<string, Record<string, number>>(productIds.map((id) => [id, {}]));
  for (const r of rows) result.get(r.product_id)![r.status] = Number(r.units);
  return result;
}

export async function statusCounts(db: DB, orderIds: readonly string[]): Promise<Record<string, number>> {
  const rows = await db.selectFrom('orders').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).where('id', 'in', [...orderIds]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | false | null | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Compiles the project into dist/ (tsc -p tsconfig.build.json) unless dist/ is newer than every source
 * file, so child-process tests run what the sources say. Test files running in parallel take turns on
 * a lock directory; the first builds, the others find it fresh.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = resolve(ROOT, 'dist/.test-build-lock');
  const stamp = resolve(ROOT, 'dist/.test-build-stamp');
  mkdirSync(resolve(ROOT, 'dist'), { recursive: true });
  for (const started = Date.now(); ; ) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - started > 120_000) throw new Error(`ensureBuilt: ${lock} held for 2 minutes (a stale lock? remove it)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (existsSync(stamp) && existsSync(resolve(ROOT, 'dist/shell/jobs/worker.js')) && !sourcesNewerThan(stamp)) return;
    const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
    // 2: type errors, files emitted all the same (an error elsewhere, `npm run typecheck` reports it).
    if (result.status === 2) console.warn(`tsc reported type errors; running what it emitted:\n${result.stdout}`);
    else if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
    writeFileSync(stamp, new Date().toISOString());
  } finally {
    rmdirSync(lock);
  }
}

function sourcesNewerThan(stamp: string): boolean {
  const result = spawnSync('find', ['core', 'shell', 'db', 'scripts', '-name', '*.ts', '-newer', stamp], { cwd: ROOT, encoding: 'utf8' });
  return result.stdout.trim().length > 0;
}

export interface ChildRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node <script>` from the project root with exactly `env` (plus PATH); output is kept. */
export function startNode(script: string, env: Record<string, string>, args: string[] = []): ChildRun {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** SIGTERM, and wait for the process to exit by itself (its graceful shutdown); SIGKILL after `timeoutMs`. Returns the exit code. */
export async function stopGracefully(run: ChildRun, timeoutMs = 20_000): Promise<number | null> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return run.child.exitCode;
  run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** SIGKILL, and wait until the process is gone. */
export async function killHard(run: ChildRun): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}

export const TEST_JWT_SECRET = 'x'.repeat(40);

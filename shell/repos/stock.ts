import { sql } from 'kysely';
import type { LiveProduct } from '../../core/checkout.js';
import { DomainFailure } from '../../core/errors.js';
import { isPubliclyVisible } from '../../core/product.js';
import type { DB, Trx } from '../../db/database.js';

/** Products as the commerce flow sees them (facts for core), and the stock writes. */

export async function productFacts(db: DB | Trx, ids: readonly string[]): Promise<Map<string, LiveProduct>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('products as p')
    .innerJoin('vendors as v', 'v.id', 'p.vendor_id')
    .innerJoin('users as vu', 'vu.id', 'v.user_id')
    .select(['p.id', 'p.vendor_id', 'p.name', 'p.unit_price', 'p.stock', 'p.is_active', 'p.deleted_at', 'v.is_active as vendor_active', 'vu.is_active as vendor_user_active'])
    .where('p.id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, liveProduct(r)]));
}

/** A product row joined with its vendor's and vendor user's flags, as the commerce flow sees it (availability from core). */
export interface ProductFactsRow {
  id: string;
  vendor_id: string;
  name: string;
  unit_price: number;
  stock: number;
  is_active: boolean;
  deleted_at: Date | string | null;
  vendor_active: boolean;
  vendor_user_active: boolean;
}

export function liveProduct(r: ProductFactsRow): LiveProduct {
  const deleted_at = r.deleted_at === null ? null : new Date(r.deleted_at);
  const available = isPubliclyVisible({ is_active: r.is_active, deleted_at, vendor_is_active: r.vendor_active, vendor_user_is_active: r.vendor_user_active });
  return { id: r.id, vendor_id: r.vendor_id, name: r.name, unit_price: r.unit_price, stock: r.stock, available };
}

/** The conditional decrement: the stock left, or null when there was not enough (nothing changed then). */
export async function decrementStock(trx: Trx, productId: string, quantity: number, now: Date): Promise<number | null> {
  const row = await trx
    .updateTable('products')
    .set((eb) => ({ stock: eb('stock', '-', quantity), updated_at: now }))
    .where('id', '=', productId)
    .where('stock', '>=', quantity)
    .returning('stock')
    .executeTakeFirst();
  return row ? row.stock : null;
}

export async function incrementStock(trx: Trx, productId: string, quantity: number, now: Date): Promise<void> {
  await trx
    .updateTable('products')
    .set((eb) => ({ stock: eb('stock', '+', quantity), updated_at: now }))
    .where('id', '=', productId)
    .execute();
}

export async function stockOf(trx: Trx, productId: string): Promise<number> {
  const row = await trx.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirst();
  return row?.stock ?? 0;
}

const productLockKey = (productId: string) => sql`hashtextextended(${`product-stock:${productId}`}, 0)`;

// Contenders inside this process queue here first, holding no database connection, so a hot product
// pins one pooled connection per process while it waits instead of the whole pool. Only an optimisation:
// across processes the advisory lock below orders contenders (tests/concurrency/scale-out.test.ts).
const localQueues = new Map<string, Promise<void>>();
/** How many contenders wait for each product's local turn. */
const waiting = new Map<string, number>();

// A product known to be sold out releases everyone queued for it (releaseProductWaiters): they run
// without the locks, at once, and are refused by their own transactions instead of each waiting for
// its turn only to find nothing left.
const soldOut = new Map<string, { signal: Promise<void>; fire: () => void }>();

function soldOutSignal(id: string): Promise<void> {
  let entry = soldOut.get(id);
  if (!entry) {
    let fire!: () => void;
    const signal = new Promise<void>((resolve) => (fire = resolve));
    entry = { signal, fire };
    soldOut.set(id, entry);
  }
  return entry.signal;
}

/** Tells the contenders queued in this process for these products that there is none left to take. */
export function releaseProductWaiters(productIds: readonly string[]): void {
  for (const id of productIds) {
    soldOut.get(id)?.fire();
    soldOut.delete(id);
  }
}

type Turn<T> = { ran: true; value: T } | { ran: false };

async function withLocalLock<T>(key: string, released: Promise<void>, work: () => Promise<Turn<T>>): Promise<Turn<T>> {
  const previous = localQueues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  localQueues.set(key, tail);
  waiting.set(key, (waiting.get(key) ?? 0) + 1);
  const myTurn = await Promise.race([previous.then(() => true), released.then(() => false)]);
  waiting.set(key, waiting.get(key)! - 1);
  if (waiting.get(key) === 0) waiting.delete(key);
  try {
    return myTurn ? await work() : { ran: false };
  } finally {
    release();
    // A contender released early leaves its place to whoever follows, still behind the current holder.
    const forget = () => {
      if (localQueues.get(key) !== tail) return;
      localQueues.delete(key);
      if (!waiting.has(key)) soldOut.delete(key);
    };
    if (myTurn) forget();
    else void tail.then(forget);
  }
}

async function withLocalLocks<T>(keys: readonly string[], released: Promise<void>, work: () => Promise<T>): Promise<Turn<T>> {
  const [first, ...rest] = keys;
  return first === undefined ? { ran: true, value: await work() } : withLocalLock(first, released, () => withLocalLocks(rest, released, work));
}

/** A pooled connection held outside a callback: `done` gives it back to the pool. */
interface Lease {
  conn: DB;
  done: () => void;
}

function leaseConnection(db: DB): Promise<Lease> {
  return new Promise((resolve, reject) => {
    db.connection()
      .execute((conn) => new Promise<void>((done) => resolve({ conn, done })))
      .catch(reject);
  });
}

// A holder whose product has contenders waiting in this process leaves its connection here for the next
// one instead of giving it back to the pool: under load, a hot product's buyers then take turns on one
// connection rather than each waiting at the back of the pool's queue (behind every other request) while
// the product is locked. Only the holder of a product's local turn parks in or takes from its slot.
const parked = new Map<string, Lease>();

async function withAdvisoryLocks<T>(conn: DB, ids: readonly string[], work: (conn: DB) => Promise<T>): Promise<T> {
  const locked: string[] = [];
  try {
    for (const id of ids) {
      await sql`SELECT pg_advisory_lock(${productLockKey(id)})`.execute(conn);
      locked.push(id);
    }
    return await work(conn);
  } finally {
    for (const id of locked.reverse()) await sql`SELECT pg_advisory_unlock(${productLockKey(id)})`.execute(conn);
  }
}

/**
 * Runs `work` on one pinned connection while holding a session advisory lock on each product, taken in
 * sorted order (no deadlocks) BEFORE the transaction begins. Contenders for a hot product queue here
 * instead of colliding inside SERIALIZABLE transactions and retrying: a lock taken inside the transaction
 * would come too late, because its snapshot is fixed by the first statement (the lock wait itself), so the
 * stock row would still look concurrently updated and fail with 40001.
 * The locks only reduce contention; correctness still rests on SERIALIZABLE and the conditional decrement.
 */
export async function withProductLocks<T>(db: DB, productIds: readonly string[], work: (conn: DB) => Promise<T>): Promise<T> {
  const ids = [...new Set(productIds)].sort();
  if (ids.length === 0) return work(db);
  const turn = await withLocalLocks(ids, Promise.race(ids.map(soldOutSignal)), async () => {
    const left = ids.flatMap((id) => {
      const lease = parked.get(id);
      parked.delete(id);
      return lease ? [lease] : [];
    });
    for (const extra of left.slice(1)) extra.done();
    const lease = left[0] ?? (await leaseConnection(db));
    let reusable = true;
    try {
      return await withAdvisoryLocks(lease.conn, ids, work);
    } catch (error) {
      // A refusal leaves the connection as it was; anything else (a broken connection) is not handed on.
      if (!(error instanceof DomainFailure)) reusable = false;
      throw error;
    } finally {
      const next = reusable ? ids.find((id) => waiting.has(id)) : undefined;
      if (next === undefined) lease.done();
      else parked.set(next, lease);
    }
  });
  return turn.ran ? turn.value : work(db);
}

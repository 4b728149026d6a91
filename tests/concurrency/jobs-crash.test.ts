import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { relayOutbox } from '../../shell/services/outbox.js';
import { commerceContext, createProduct, createVendor, stockOf, type Catalog, type ProductFixture } from '../support/commerce-fixtures.js';
import type { TestContext } from '../support/harness.js';
import { dropPrefix, ensureBuilt, insertOrders, killHard, startNode, statusCounts, TEST_JWT_SECRET, uniquePrefix, unitsByStatus, waitUntil, type ChildRun } from '../support/job-fixtures.js';

/**
 * The compiled worker (`node dist/shell/jobs/worker.js`, as `npm run worker` runs it) killed with SIGKILL
 * in the middle of its work and started again: nothing is left half-done and nothing is done twice.
 */

const WORKER = 'dist/shell/jobs/worker.js';

describe('the worker killed with SIGKILL and restarted', () => {
  let ctx: TestContext;
  let catalog: Catalog;
  const children: ChildRun[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    ({ ctx, catalog } = await commerceContext({ redis: true }));
  }, 120_000);
  afterEach(async () => {
    for (const c of children.splice(0)) await killHard(c);
    for (const p of prefixes.splice(0)) await dropPrefix(ctx.redis!, p);
  });
  afterAll(() => ctx?.close());

  /** The worker as a separate process on this file's database, with a Redis prefix of the test's own. */
  function startWorker(prefix: string): ChildRun {
    const run = startNode(WORKER, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.config.REDIS_URL!,
      REDIS_PREFIX: prefix,
      JOBS_SWEEP_SECONDS: '1',
      JWT_SECRET: TEST_JWT_SECRET,
    });
    children.push(run);
    return run;
  }

  const expiredCount = async (orderIds: string[]) =>
    Number((await ctx.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('id', 'in', orderIds).where('status', '=', 'expired').executeTakeFirstOrThrow()).n);
  const notificationsOfUser = async (userId: string) =>
    Number((await ctx.db.selectFrom('notifications').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);
  const notificationsOfEvents = async (outboxIds: string[]) =>
    Number((await ctx.db.selectFrom('notifications').select((eb) => eb.fn.countAll().as('n')).where('outbox_id', 'in', outboxIds).executeTakeFirstOrThrow()).n);

  it('expiry: every order either still pending with its stock taken or expired with its stock returned, never twice', async () => {
    const customer = await ctx.user('customer');
    const products: ProductFixture[] = [];
    for (let i = 0; i < 6; i++) products.push(await createProduct(ctx.db, catalog, { stock: 2000 }));
    const orderIds = await insertOrders(ctx.db, {
      customerId: customer.id,
      count: 300,
      paymentDueBy: new Date(Date.now() - 60_000),
      lines: (i) => [{ product: products[i % 6]!, quantity: 1 + (i % 4) }, { product: products[(i + 1) % 6]!, quantity: 1 + (i % 3) }],
    });
    const initial = new Map(products.map((p) => [p.id, 2000]));

    /** Per product, stock = initial − units in orders still pending_payment; outbox rows exactly for the expired ones. */
    async function assertInvariants(): Promise<Record<string, number>> {
      const units = await unitsByStatus(ctx.db, products.map((p) => p.id));
      for (const p of products) expect(await stockOf(ctx.db, p.id), `stock of ${p.name}`).toBe(initial.get(p.id)! - (units.get(p.id)!.pending_payment ?? 0));
      const orders = await ctx.db.selectFrom('orders').select(['id', 'status', 'expired_at']).where('id', 'in', orderIds).execute();
      const outbox = await ctx.db.selectFrom('outbox').select(['subject_id', 'kind']).where('subject_id', 'in', orderIds).execute();
      const rowsOf = new Map<string, number>();
      for (const o of outbox) rowsOf.set(o.subject_id, (rowsOf.get(o.subject_id) ?? 0) + 1);
      for (const o of orders) {
        expect(['pending_payment', 'expired']).toContain(o.status);
        expect(o.expired_at === null).toBe(o.status === 'pending_payment');
        expect(rowsOf.get(o.id) ?? 0, `outbox rows of ${o.status} order`).toBe(o.status === 'expired' ? 1 : 0);
      }
      expect(outbox.every((o) => o.kind === 'order_expired')).toBe(true);
      return statusCounts(ctx.db, orderIds);
    }

    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const started = Date.now();
    const first = startWorker(prefix);
    const expired = () => expiredCount(orderIds);
    const atKill = await waitUntil('some orders expired', async () => {
      const n = await expired();
      return n >= 20 && n;
    }, 20_000, 10);
    await killHard(first);
    const killedAfter = Date.now() - started;
    const afterKill = await assertInvariants();
    expect(afterKill.expired, 'killed before it expired them all').toBeLessThan(300);
    expect(afterKill.expired).toBeGreaterThanOrEqual(atKill);

    // Started again (two of them now, racing each other across processes) until all are expired.
    const restarted = Date.now();
    startWorker(prefix);
    startWorker(prefix);
    await waitUntil('all 300 expired', async () => (await expired()) === 300, 30_000, 100);
    const finishedIn = Date.now() - restarted;
    expect(await assertInvariants()).toEqual({ expired: 300 });
    for (const p of products) expect(await stockOf(ctx.db, p.id)).toBe(2000);
    // The relay of the restarted workers tells the customer of each order once.
    await waitUntil('300 notifications', async () => (await notificationsOfUser(customer.id)) >= 300, 20_000, 100);
    await new Promise((r) => setTimeout(r, 1500));
    const notes = await ctx.db.selectFrom('notifications').select(['subject_id', 'kind']).where('user_id', '=', customer.id).execute();
    expect(notes).toHaveLength(300);
    expect(new Set(notes.map((n) => n.subject_id))).toEqual(new Set(orderIds));
    expect(await ctx.db.selectFrom('outbox').select('id').where('subject_id', 'in', orderIds).where('sent_at', 'is', null).execute()).toEqual([]);
    console.info(`expiry: killed after ${killedAfter} ms with ${afterKill.expired}/300 expired; restarted workers finished the rest in ${finishedIn} ms`);
  });

  it('relay: 1,000 paid orders of two vendors give exactly 2,000 vendor notifications though the relay is killed midway', async () => {
    const customer = await ctx.user('customer');
    const other = await createVendor(ctx);
    const a = await createProduct(ctx.db, catalog, { stock: 5000 });
    const b = await createProduct(ctx.db, other, { stock: 5000 });
    const orderIds = await insertOrders(ctx.db, { customerId: customer.id, count: 1000, status: 'paid', paymentDueBy: new Date(Date.now() + 1_800_000), lines: [{ product: a, quantity: 1 }, { product: b, quantity: 2 }] });
    const base = Date.now() - 10_000;
    const events = orderIds.map((id, i) => ({ id: crypto.randomUUID(), kind: 'order_paid' as const, subject_id: id, created_at: new Date(base + i) }));
    for (let i = 0; i < events.length; i += 500) await ctx.db.insertInto('outbox').values(events.slice(i, i + 500)).execute();
    const vendorUsers = [catalog.vendorUser.id, other.vendorUser.id];
    const notificationCount = () => notificationsOfEvents(events.map((e) => e.id));

    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const relay = startWorker(prefix);
    const atKill = await waitUntil('some notifications', async () => {
      const n = await notificationCount();
      return n > 0 && n;
    }, 20_000, 5);
    await killHard(relay);
    const midway = await notificationCount();
    expect(midway, `killed before the relay finished (${relay.output().slice(-2000)})`).toBeLessThan(2000);
    expect(midway).toBeGreaterThanOrEqual(atKill);

    // Each event is wholly relayed (sent, both vendors told) or not at all.
    const sent = await ctx.db.selectFrom('outbox').select('id').where('id', 'in', events.map((e) => e.id)).where('sent_at', 'is not', null).execute();
    expect(midway).toBe(sent.length * 2);
    const perEvent = await ctx.db
      .selectFrom('notifications')
      .select((eb) => ['outbox_id', eb.fn.countAll<number>().as('n')])
      .where('outbox_id', 'in', sent.map((s) => s.id))
      .groupBy('outbox_id')
      .execute();
    expect(perEvent.every((r) => Number(r.n) === 2)).toBe(true);

    // The rest relayed in this process (as another worker would).
    let rounds = 0;
    for (let r = await relayOutbox(ctx.services); r.events > 0; r = await relayOutbox(ctx.services)) rounds++;
    const rows = await ctx.db.selectFrom('notifications').select(['outbox_id', 'user_id', 'kind', 'subject_id']).where('outbox_id', 'in', events.map((e) => e.id)).execute();
    expect(rows).toHaveLength(2000);
    expect(new Set(rows.map((r) => `${r.outbox_id}/${r.user_id}`)).size).toBe(2000);
    expect(rows.every((r) => r.kind === 'order_paid')).toBe(true);
    for (const user of vendorUsers) {
      const theirs = rows.filter((r) => r.user_id === user);
      expect(theirs).toHaveLength(1000);
      expect(new Set(theirs.map((r) => r.subject_id))).toEqual(new Set(orderIds));
    }
    expect(await notificationsOfUser(customer.id)).toBe(0);
    expect(await ctx.db.selectFrom('outbox').select('id').where('id', 'in', events.map((e) => e.id)).where('sent_at', 'is', null).execute()).toEqual([]);
    console.info(`relay: killed with ${midway}/2000 notifications written (${sent.length} events sent); finished in ${rounds} more relay runs`);
  });
});

import { randomUUID } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext, type Logger } from '../../shell/context.js';
import type { JobEnv } from '../../shell/jobs/job.js';
import { JOBS } from '../../shell/jobs/jobs.js';
import { createJobQueue, createJobWorker, queueConnection, registerSchedulers, wakeRelay } from '../../shell/jobs/queue.js';
import { expireOverdueOrders } from '../../shell/services/orders.js';
import { commerceContext, createProduct, createVendor, insertConfirmedCheckout, stockOf, type Catalog, type ProductFixture } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';
import { dropPrefix, insertOrders, statusCounts, uniquePrefix, waitUntil } from '../support/job-fixtures.js';

/**
 * The background jobs against a real PostgreSQL and Redis: the expiry job through real BullMQ workers
 * (schedulers every second), two expiry loops racing over the same due orders, and the reconcile job
 * asking the fake provider. Final database state is asserted, not only what the jobs return.
 */

describe('background jobs', () => {
  let ctx: TestContext;
  let catalog: Catalog;

  beforeAll(async () => {
    ({ ctx, catalog } = await commerceContext({ redis: true }));
  });
  afterAll(() => ctx.close());

  /** A real order through the API (checkout confirmed, POST /orders/create/), made `minutesAgo` ago by the app's clock. */
  async function orderThroughApi(customer: TestUser, product: ProductFixture, quantity: number, minutesAgo = 0): Promise<{ id: string; number: number }> {
    await insertConfirmedCheckout(ctx.db, customer.id, product, quantity, ctx.config.CHECKOUT_TTL_SECONDS);
    ctx.clock.set(new Date(Date.now() - minutesAgo * 60_000));
    try {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/orders/create/', payload: {}, as: customer });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    } finally {
      ctx.clock.real();
    }
  }

  const outboxOf = (orderId: string) => ctx.db.selectFrom('outbox').selectAll().where('subject_id', '=', orderId).execute();
  const notificationsOf = (userId: string) => ctx.db.selectFrom('notifications').selectAll().where('user_id', '=', userId).execute();

  describe('queue mode (BullMQ)', () => {
    const opened: { worker?: Worker; queue?: Queue; prefix?: string }[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0)) {
        await o.worker?.close();
        await o.queue?.close();
        if (o.prefix) await dropPrefix(ctx.redis!, o.prefix);
      }
    });

    /** A queue and a worker of their own (unique prefix), as `npm run worker` builds them; wake() adds the relay job. */
    function startWorker(env: Partial<JobEnv> = {}): { queue: Queue; worker: Worker; services: AppContext; prefix: string; log: string[] } {
      const prefix = `${uniquePrefix()}bull`;
      const connection = queueConnection(ctx.config.REDIS_URL!);
      const queue = createJobQueue(connection, prefix);
      const log: string[] = [];
      const logger: Logger = { info: (_o, m) => log.push(m ?? ''), warn: (_o, m) => log.push(`warn ${m}`), error: (_o, m) => log.push(`error ${m}`) };
      const services = createContext(ctx.config, { db: ctx.db, redis: ctx.redis, cache: ctx.services.cache, payments: ctx.services.payments, now: ctx.clock.now, wake: () => void wakeRelay(queue).catch(() => undefined) }, logger);
      const worker = createJobWorker(services, { reconcileAfterSeconds: ctx.config.RECONCILE_AFTER_SECONDS, deliverEmail: null, ...env }, null, connection, prefix);
      opened.push({ worker, queue, prefix });
      return { queue, worker, services, prefix, log };
    }

    it('a worker expires an unpaid order past due: stock back once, one order_expired outbox row, one notification for the customer', async () => {
      const customer = await ctx.user('customer');
      const other = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 10 });
      const due = await orderThroughApi(customer, product, 3, 31); // due a minute ago (PAYMENT_DUE_SECONDS 1800)
      const notDue = await orderThroughApi(other, product, 2);
      expect(await stockOf(ctx.db, product.id)).toBe(5);

      const started = Date.now();
      const { queue } = startWorker();
      await registerSchedulers(queue, 1);
      const [notification] = await waitUntil('the customer’s notification', async () => {
        const rows = await notificationsOf(customer.id);
        return rows.length > 0 && rows;
      }, 15_000);
      const elapsed = Date.now() - started;

      const order = await ctx.db.selectFrom('orders').selectAll().where('id', '=', due.id).executeTakeFirstOrThrow();
      expect(order.status).toBe('expired');
      expect(order.expired_at).not.toBeNull();
      const outbox = await outboxOf(due.id);
      expect(outbox).toHaveLength(1);
      expect(outbox[0]).toMatchObject({ kind: 'order_expired', subject_id: due.id, sent_at: expect.any(Date) });
      expect(notification).toMatchObject({ user_id: customer.id, kind: 'order_expired', subject_id: due.id, outbox_id: outbox[0]!.id, read_at: null });
      expect(notification!.message).toContain(`#${due.number}`);

      // Three more sweeps change nothing: the stock came back once, one row, one notification.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await stockOf(ctx.db, product.id)).toBe(8); // 10 − 2 still held by the order not yet due
      expect(await outboxOf(due.id)).toHaveLength(1);
      expect(await notificationsOf(customer.id)).toHaveLength(1);
      expect(await ctx.db.selectFrom('orders').select('status').where('id', '=', notDue.id).executeTakeFirstOrThrow()).toEqual({ status: 'pending_payment' });
      expect(await outboxOf(notDue.id)).toHaveLength(0);
      expect(await notificationsOf(other.id)).toHaveLength(0);

      const listed = await ctx.request({ method: 'GET', url: '/api/v1/notifications/', as: customer });
      expect(listed.json().results).toEqual([expect.objectContaining({ id: notification!.id, kind: 'order_expired', subject_id: due.id })]);
      console.info(`queue mode: order expired and its customer notified ${elapsed} ms after the worker started (sweep every 1 s)`);
    });

    it('a wake-up while the relay is running is not lost: the event committed meanwhile is relayed without waiting for a sweep', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 10 });
      const [o1, o2] = await insertOrders(ctx.db, { customerId: customer.id, count: 2, paymentDueBy: new Date(Date.now() + 600_000), lines: [{ product, quantity: 1 }] });
      const event = (orderId: string) => ({ id: randomUUID(), kind: 'order_expired' as const, subject_id: orderId, created_at: new Date() });
      const e1 = event(o1!);
      await ctx.db.insertInto('outbox').values(e1).execute();

      // Another transaction holds the customer's row FOR UPDATE: the relay's insert of their notification
      // (its foreign key check) waits on it, so the relay job stays active for as long as the test wants.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let inserted!: () => void;
      const holding = new Promise<void>((r) => (inserted = r));
      const blocker = ctx.db
        .transaction()
        .execute(async (trx) => {
          await trx.selectFrom('users').select('id').where('id', '=', customer.id).forUpdate().execute();
          inserted();
          await held;
          throw new Error('rollback');
        })
        .catch(() => undefined);
      const e2 = event(o2!);
      try {
        await holding;
        const { queue } = startWorker(); // no schedulers: only wake-ups run the relay
        await wakeRelay(queue);
        await waitUntil('the relay blocked on the held row', async () => {
          const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(ctx.db);
          return r.rows[0]!.n > 0;
        }, 10_000);

        // An event committed while the relay runs, and its commit's wake-up.
        await ctx.db.insertInto('outbox').values(e2).execute();
        await wakeRelay(queue);
      } finally {
        release();
        await blocker;
      }

      await waitUntil('both events relayed', async () => {
        const sent = await ctx.db.selectFrom('outbox').select('id').where('id', 'in', [e1.id, e2.id]).where('sent_at', 'is not', null).execute();
        return sent.length === 2;
      }, 5000).catch(() => undefined);
      expect(await ctx.db.selectFrom('outbox').select(['id', 'sent_at']).where('id', 'in', [e1.id, e2.id]).orderBy('created_at').execute()).toEqual([
        { id: e1.id, sent_at: expect.any(Date) },
        { id: e2.id, sent_at: expect.any(Date) },
      ]);
      const notes = await notificationsOf(customer.id);
      expect(notes.map((n) => n.outbox_id).sort()).toEqual([e1.id, e2.id].sort());
    });

    it('a one-off expire job added to the queue does the same; the relay it wakes tells the customer', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 4 });
      const due = await orderThroughApi(customer, product, 4, 31);
      expect(await stockOf(ctx.db, product.id)).toBe(0);

      const { queue } = startWorker();
      await queue.add('expire', {});
      await waitUntil('the notification', async () => (await notificationsOf(customer.id)).length === 1, 10_000);
      expect(await stockOf(ctx.db, product.id)).toBe(4);
      expect(await ctx.db.selectFrom('orders').select('status').where('id', '=', due.id).executeTakeFirstOrThrow()).toEqual({ status: 'expired' });
      expect(await outboxOf(due.id)).toEqual([expect.objectContaining({ kind: 'order_expired', sent_at: expect.any(Date) })]);
    });
  });

  it('two expiry loops racing over 100 due orders: each expired exactly once, stock restored exactly, 100 outbox rows', async () => {
    const customer = await ctx.user('customer');
    const second = await createVendor(ctx);
    const products = [
      ...(await Promise.all([1, 2, 3].map(() => createProduct(ctx.db, catalog, { stock: 1000 })))),
      ...(await Promise.all([1, 2].map(() => createProduct(ctx.db, second, { stock: 1000 })))),
    ];
    const orderIds = await insertOrders(ctx.db, {
      customerId: customer.id,
      count: 100,
      paymentDueBy: new Date(Date.now() - 60_000),
      // One or two lines of 1–3 units each, over five products of two vendors.
      lines: (i) => [{ product: products[i % 5]!, quantity: 1 + (i % 3) }, ...(i % 2 ? [{ product: products[(i + 2) % 5]!, quantity: 1 + (i % 2) }] : [])],
    });
    const taken = await Promise.all(products.map((p) => stockOf(ctx.db, p.id)));
    expect(taken.reduce((a, b) => a + b, 0)).toBeLessThan(5000);

    const due = () => ctx.db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending_payment').where('payment_due_by', '<=', new Date()).executeTakeFirstOrThrow();
    const loop = async () => {
      const mine: string[] = [];
      while (Number((await due()).n) > 0) mine.push(...(await expireOverdueOrders(ctx.services, { limit: 10 })));
      return mine;
    };
    const started = Date.now();
    // In one process the loops also queue on the per-product local locks, so one may trail the other and
    // find every order already expired; jobs-crash.test.ts races two worker processes.
    const [a, b] = await Promise.all([loop(), loop()]);
    const elapsed = Date.now() - started;

    expect(a.length + b.length).toBe(100);
    expect(new Set([...a, ...b]).size).toBe(100); // no order expired by both
    expect(await statusCounts(ctx.db, orderIds)).toEqual({ expired: 100 });
    for (const p of products) expect(await stockOf(ctx.db, p.id)).toBe(1000);
    const outbox = await ctx.db.selectFrom('outbox').select(['subject_id', 'kind']).where('subject_id', 'in', orderIds).execute();
    expect(outbox).toHaveLength(100);
    expect(new Set(outbox.map((o) => o.subject_id)).size).toBe(100);
    expect(outbox.every((o) => o.kind === 'order_expired')).toBe(true);
    const expiredAt = await ctx.db.selectFrom('orders').select('expired_at').where('id', 'in', orderIds).where('expired_at', 'is', null).execute();
    expect(expiredAt).toHaveLength(0);
    console.info(`two loops expired 100 orders in ${elapsed} ms (${a.length} + ${b.length})`);
  });

  describe('reconcile (fake provider)', () => {
    const initiate = async (customer: TestUser, orderId: string, method?: string) => {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: orderId, ...(method ? { method } : {}) }, as: customer });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string; status: string }>();
    };
    const paymentOf = (id: string) => ctx.db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const orderOf = (id: string) => ctx.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const env: JobEnv = { reconcileAfterSeconds: 300, deliverEmail: null };
    /** Runs the reconcile job with the clock `seconds` ahead. */
    async function reconcileAt(seconds: number) {
      ctx.clock.set(new Date(Date.now() + seconds * 1000));
      try {
        return await JOBS.reconcile.run(ctx.services, env);
      } finally {
        ctx.clock.real();
      }
    }

    it('asks the fake provider about payments pending past RECONCILE_AFTER_SECONDS: fake_pending stays pending, the default succeeds, fake_decline fails', async () => {
      const customer = await ctx.user('customer');
      const product = await createProduct(ctx.db, catalog, { stock: 30 });
      const [o1, o2, o3] = [await orderThroughApi(customer, product, 1), await orderThroughApi(customer, product, 1), await orderThroughApi(customer, product, 1)];
      const pending = await initiate(customer, o1!.id, 'fake_pending');
      const approves = await initiate(customer, o2!.id);
      const declines = await initiate(customer, o3!.id, 'fake_decline');

      // Younger than RECONCILE_AFTER_SECONDS: not asked.
      expect(await reconcileAt(0)).toEqual({});
      expect((await paymentOf(approves.id)).status).toBe('pending');

      expect(await reconcileAt(301)).toEqual({ still_pending: 1, paid: 1, failed: 1 });
      expect(await paymentOf(pending.id)).toMatchObject({ status: 'pending', failure_reason: null });
      expect(await orderOf(o1!.id)).toMatchObject({ status: 'pending_payment', paid_at: null });
      expect(await paymentOf(approves.id)).toMatchObject({ status: 'succeeded', succeeded_at: expect.any(Date) });
      expect(await orderOf(o2!.id)).toMatchObject({ status: 'paid', paid_at: expect.any(Date) });
      expect(await paymentOf(declines.id)).toMatchObject({ status: 'failed', failure_reason: 'declined' });
      expect(await orderOf(o3!.id)).toMatchObject({ status: 'pending_payment' });
      expect((await outboxOf(o2!.id)).map((r) => r.kind)).toEqual(['order_paid']);
      expect(await outboxOf(o1!.id)).toEqual([]);
      expect(await outboxOf(o3!.id)).toEqual([]);

      // Asked again, fake_pending is still pending and nothing else changes.
      expect(await reconcileAt(400)).toEqual({ still_pending: 1 });
      expect(await outboxOf(o2!.id)).toHaveLength(1);

      // Once its order is past payment_due_by the still-pending payment is cancelled (nothing was taken)…
      expect(await reconcileAt(ctx.config.PAYMENT_DUE_SECONDS + 1)).toEqual({ cancelled: 1 });
      expect(await paymentOf(pending.id)).toMatchObject({ status: 'cancelled', failure_reason: 'order_not_payable' });
      // …and the expiry job expires the order and returns its unit.
      const expired = await expireOverdueOrders(ctx.services, { now: new Date(Date.now() + (ctx.config.PAYMENT_DUE_SECONDS + 1) * 1000) });
      expect(expired).toEqual(expect.arrayContaining([o1!.id, o3!.id]));
      expect(expired).not.toContain(o2!.id);
      expect(await orderOf(o1!.id)).toMatchObject({ status: 'expired' });
      expect(await orderOf(o3!.id)).toMatchObject({ status: 'expired' });
      expect(await stockOf(ctx.db, product.id)).toBe(29); // the paid order keeps its unit
    });
  });
});

import { randomUUID } from 'node:crypto';
import type { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext, type Logger } from '../../shell/context.js';
import { startInlineJobs, type InlineJobs } from '../../shell/jobs/inline.js';
import type { JobEnv } from '../../shell/jobs/job.js';
import { JOBS } from '../../shell/jobs/jobs.js';
import { createJobQueue, createJobWorker, enqueueEmail, queueConnection, wakeRelay } from '../../shell/jobs/queue.js';
import { inlineJobEnv, mailerFor } from '../../shell/jobs/runtime.js';
import type { Mailer } from '../../shell/mail/mailer.js';
import { emailNotification } from '../../shell/services/outbox.js';
import { expireOverdueOrders } from '../../shell/services/orders.js';
import { commerceContext, createProduct, type Catalog } from '../support/commerce-fixtures.js';
import type { TestContext, TestUser } from '../support/harness.js';
import { dropPrefix, insertOrders, uniquePrefix, waitUntil } from '../support/job-fixtures.js';
import { startSmtpStandIn, type SmtpStandIn } from '../support/smtp-stand-in.js';

/**
 * With SMTP configured, every notification is e-mailed to its user exactly once: through the queue
 * (an e-mail job per notification, retried with backoff) and inline (sent at once, the e-mail sweep
 * retrying failures). Orders are expired by the expiry service, whose commit wakes the relay.
 */

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('e-mail delivery of notifications', () => {
  let ctx: TestContext;
  let catalog: Catalog;
  let smtp: SmtpStandIn;
  let mailer: Mailer;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    smtp = await startSmtpStandIn();
    ({ ctx, catalog } = await commerceContext({ redis: true }));
    mailer = mailerFor({ ...ctx.config, SMTP_URL: smtp.url })!;
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    smtp.behave('accept');
  });
  afterAll(async () => {
    await mailer.close();
    await ctx.close();
    await smtp.close();
  });

  /** `count` unpaid orders of the customer already past payment_due_by. */
  async function dueOrders(customer: TestUser, count: number): Promise<string[]> {
    const product = await createProduct(ctx.db, catalog, { stock: 100 });
    return insertOrders(ctx.db, { customerId: customer.id, count, paymentDueBy: new Date(Date.now() - 60_000), lines: [{ product, quantity: 1 }] });
  }
  const notificationsOf = (orderIds: string[]) => ctx.db.selectFrom('notifications').selectAll().where('subject_id', 'in', orderIds).orderBy('created_at').execute();
  const mailsTo = (email: string) => smtp.received.filter((m) => m.to.includes(email));

  /** Queue mode as `npm run worker` runs it: the expiry's commit wakes the relay, which enqueues one e-mail job per notification. */
  function queueMode(): { services: AppContext; env: JobEnv; queue: Queue; worker: Worker } {
    const prefix = `${uniquePrefix()}bull`;
    const connection = queueConnection(ctx.config.REDIS_URL!);
    const queue = createJobQueue(connection, prefix);
    const services = createContext(ctx.config, { db: ctx.db, redis: ctx.redis, cache: ctx.services.cache, wake: () => void wakeRelay(queue).catch(() => undefined) }, quiet);
    const env: JobEnv = { reconcileAfterSeconds: 300, deliverEmail: enqueueEmail(queue) };
    const worker = createJobWorker(services, env, mailer, connection, prefix);
    cleanups.push(async () => {
      await worker.close();
      await queue.close();
      await dropPrefix(ctx.redis!, prefix);
    });
    return { services, env, queue, worker };
  }

  it('queue: one e-mail per notification, to its user, and delivering again sends nothing', async () => {
    const customers = [await ctx.user('customer'), await ctx.user('customer'), await ctx.user('customer')];
    const orderIds = (await Promise.all(customers.map((c) => dueOrders(c, 4)))).flat();
    const { services, env, queue } = queueMode();
    const before = smtp.received.length;

    const started = Date.now();
    expect(await expireOverdueOrders(services)).toHaveLength(12);
    await smtp.waitFor(before + 12, 15_000);
    const elapsed = Date.now() - started;
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.received.length - before).toBe(12);

    const notes = await notificationsOf(orderIds);
    expect(notes).toHaveLength(12);
    for (const c of customers) {
      const theirs = notes.filter((n) => n.user_id === c.id);
      expect(theirs).toHaveLength(4);
      const mails = mailsTo(c.email);
      expect(mails).toHaveLength(4);
      expect(mails.map((m) => m.text).sort()).toEqual(theirs.map((n) => n.message).sort());
      expect(mails.every((m) => m.subject === 'Your order expired unpaid')).toBe(true);
    }
    for (const n of notes) expect(n).toMatchObject({ emailed_at: expect.any(Date), email_attempts: 1, last_email_error: null });

    // Again, every way: the sweep finds nothing to send, the relay nothing to relay, a second e-mail job
    // (same job id) or a direct delivery finds it sent.
    expect(await JOBS.email.run(services, env)).toEqual({ handed: 0, failed: 0 });
    expect(await JOBS.relay.run(services, env)).toEqual({ events: 0, notifications: 0 });
    for (const n of notes) await enqueueEmail(queue)(n.id);
    for (const n of notes) expect(await emailNotification(services, mailer, n.id)).toBe('already_sent');
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.received.length - before).toBe(12);
    expect(await notificationsOf(orderIds)).toHaveLength(12);
    console.info(`queue: 12 notifications e-mailed ${elapsed} ms after the expiry`);
  });

  it('queue: a refused e-mail is retried with backoff, one notification and exactly one accepted e-mail', async () => {
    const customer = await ctx.user('customer');
    const [orderId] = await dueOrders(customer, 1);
    const { services } = queueMode();
    smtp.behave('reject');
    expect(await expireOverdueOrders(services)).toEqual([orderId]);

    const [failed] = await waitUntil('a failed attempt', async () => {
      const rows = await notificationsOf([orderId!]);
      return rows[0] && rows[0].email_attempts >= 1 && rows;
    }, 10_000);
    expect(failed).toMatchObject({ emailed_at: null, email_attempts: 1, last_email_error: expect.stringContaining('550') });
    expect(mailsTo(customer.email)).toHaveLength(0);

    smtp.behave('accept');
    const started = Date.now();
    await waitUntil('the e-mail', async () => mailsTo(customer.email).length > 0, 15_000);
    const retriedAfter = Date.now() - started;
    await new Promise((r) => setTimeout(r, 1500));
    expect(mailsTo(customer.email)).toHaveLength(1);
    const notes = await notificationsOf([orderId!]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ id: failed!.id, emailed_at: expect.any(Date), email_attempts: 2, last_email_error: null });
    console.info(`queue: refused once, accepted on retry ${retriedAfter} ms after the server came back`);
  });

  it('the e-mail sweep is not held up by notifications of deactivated users (it skips them; it used to re-take the same 500 every sweep)', async () => {
    const gone = await ctx.user('customer', { is_active: false });
    const customer = await ctx.user('customer');
    const old = new Date(Date.now() - 3_600_000);
    const rows = Array.from({ length: 501 }, (_, i) => ({ id: randomUUID(), user_id: gone.id, outbox_id: null, kind: 'order_expired' as const, subject_id: randomUUID(), message: `old ${i}`, created_at: new Date(old.getTime() + i) }));
    await ctx.db.insertInto('notifications').values(rows).execute();
    // A notification whose first e-mail failed, younger than all of those.
    const [orderId] = await dueOrders(customer, 1);
    const services = createContext({ ...ctx.config, SMTP_URL: smtp.url }, { db: ctx.db, redis: ctx.redis, cache: ctx.services.cache }, quiet);
    const env = inlineJobEnv(services, { ...ctx.config, SMTP_URL: smtp.url }, mailer);
    smtp.behave('reject');
    await expireOverdueOrders(services);
    await JOBS.relay.run(services, env);
    expect(await notificationsOf([orderId!])).toEqual([expect.objectContaining({ emailed_at: null, email_attempts: 1 })]);
    smtp.behave('accept');

    await JOBS.email.run(services, env);
    expect(mailsTo(customer.email)).toHaveLength(1);
    expect(mailsTo(gone.email)).toHaveLength(0);
    expect(await notificationsOf([orderId!])).toEqual([expect.objectContaining({ emailed_at: expect.any(Date), email_attempts: 2 })]);
  });

  it('inline: sent at once; a refused e-mail is sent by the e-mail sweep once the server accepts, exactly once', async () => {
    const customer = await ctx.user('customer');
    const orderIds = await dueOrders(customer, 3);
    const config = { ...ctx.config, SMTP_URL: smtp.url };
    const jobs: { inline?: InlineJobs } = {};
    const services = createContext(config, { db: ctx.db, redis: ctx.redis, cache: ctx.services.cache, wake: (job) => jobs.inline?.wake(job) }, quiet);
    const inline = (jobs.inline = startInlineJobs(services, inlineJobEnv(services, config, mailer), 2));
    cleanups.push(() => inline.stop());

    smtp.behave('reject');
    expect(await expireOverdueOrders(services)).toHaveLength(3);
    await waitUntil('three failed attempts', async () => (await notificationsOf(orderIds)).filter((n) => n.email_attempts >= 1).length === 3, 10_000);
    expect(mailsTo(customer.email)).toHaveLength(0);

    smtp.behave('accept');
    await waitUntil('three e-mails', async () => mailsTo(customer.email).length >= 3, 10_000);
    await new Promise((r) => setTimeout(r, 4500)); // two more sweeps (every 2 s; 5 failed tries would end the retries)
    expect(mailsTo(customer.email)).toHaveLength(3);
    const notes = await notificationsOf(orderIds);
    expect(notes).toHaveLength(3);
    for (const n of notes) expect(n).toMatchObject({ emailed_at: expect.any(Date), last_email_error: null });
    expect(notes.every((n) => n.email_attempts >= 2)).toBe(true);
    expect(mailsTo(customer.email).map((m) => m.text).sort()).toEqual(notes.map((n) => n.message).sort());
  });
});

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideMarkRead, notificationsFor, type NotificationEvent, type OrderFacts } from '../../core/notification.js';
import type { Actor } from '../../core/policy.js';
import type { DB } from '../../db/database.js';
import { openPostgres, type DatabaseHandle } from '../../shell/db.js';
import { keysetPage } from '../../shell/pagination.js';
import { claimUnsent, deleteSentBefore, insertOutbox, markSent } from '../../shell/repos/outbox.js';
import {
  findNotification,
  insertNotifications,
  markEmailed,
  markRead,
  notificationsQuery,
  recordEmailFailure,
  unemailedNotifications,
} from '../../shell/repos/notifications.js';
import { createTestDatabase } from '../support/harness.js';

describe('outbox and notification repos', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let db: DB;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = openPostgres(database.url, 5);
    db = handle.db;
  });
  afterAll(async () => {
    await handle.close();
    await database.drop();
  });

  const at = (minute: number) => new Date(Date.UTC(2026, 10, 2, 10, minute));

  async function user(role: Actor['role'] = 'customer'): Promise<Actor & { email: string }> {
    const id = randomUUID();
    const email = `${role}-${id.slice(0, 8)}@example.test`;
    await db.insertInto('users').values({ id, email, password_hash: 'x', role, created_at: at(0), updated_at: at(0) }).execute();
    return { id, role, email };
  }

  async function outboxRow(kind: NotificationEvent['kind'], createdAt: Date): Promise<NotificationEvent> {
    const row = { id: randomUUID(), kind, subject_id: randomUUID() };
    await db.transaction().execute((trx) => insertOutbox(trx, { ...row, payload: { number: 1042 }, created_at: createdAt }));
    return row;
  }

  const factsFor = (customerId: string): OrderFacts => ({ number: 1042, customer_id: customerId, lineVendorIds: [], vendorUsers: new Map() });

  /** What the relay does with one event: its notifications and the row marked sent, in one transaction. */
  async function relay(event: NotificationEvent, facts: OrderFacts, now: Date): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const written = (await insertNotifications(trx, notificationsFor(event, facts, [randomUUID(), randomUUID()], now))).length;
      await markSent(trx, event.id, now);
      return written;
    });
  }

  it('writes one notification per event and user, however often the event is relayed', async () => {
    const customer = await user();
    const event = await outboxRow('order_expired', at(1));

    expect(await relay(event, factsFor(customer.id), at(2))).toBe(1);
    // A second relay (say, a worker that crashed before marking the row sent) decides new ids: still one row.
    expect(await relay(event, factsFor(customer.id), at(3))).toBe(0);

    const rows = await db.selectFrom('notifications').selectAll().where('outbox_id', '=', event.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: customer.id, kind: 'order_expired', subject_id: event.subject_id, read_at: null, emailed_at: null, email_attempts: 0 });
    expect(rows[0]!.message).toContain('#1042');
    expect(rows[0]!.created_at).toEqual(at(2));
  });

  it('stores the payload as JSON and defaults it to an empty object', async () => {
    const withPayload = await outboxRow('order_paid', at(0));
    const bare = { id: randomUUID(), kind: 'order_refunded' as const, subject_id: randomUUID() };
    await db.transaction().execute((trx) => insertOutbox(trx, { ...bare, created_at: at(0) }));
    const rows = await db.selectFrom('outbox').select(['id', 'payload']).where('id', 'in', [withPayload.id, bare.id]).execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.payload]))).toEqual({ [withPayload.id]: { number: 1042 }, [bare.id]: {} });
    await db.deleteFrom('outbox').where('id', 'in', [withPayload.id, bare.id]).execute();
  });

  it('refuses an outbox row of a kind nobody relays', async () => {
    await expect(
      sql`INSERT INTO outbox (id, kind, subject_id, created_at) VALUES (${randomUUID()}, 'order_shipped', ${randomUUID()}, now())`.execute(db),
    ).rejects.toThrow(/check constraint/);
  });

  it('claims unsent events oldest first, skipping sent ones, up to the limit; marks each sent once', async () => {
    await db.deleteFrom('outbox').where('sent_at', 'is', null).execute();
    const third = await outboxRow('order_paid', at(30));
    const first = await outboxRow('order_expired', at(10));
    const sent = await outboxRow('order_refunded', at(5));
    const second = await outboxRow('order_refunded', at(20));
    expect(await db.transaction().execute((trx) => markSent(trx, sent.id, at(40)))).toBe(true);
    expect(await db.transaction().execute((trx) => markSent(trx, sent.id, at(41)))).toBe(false);

    expect((await claimUnsent(db, 10)).map((r) => r.id)).toEqual([first.id, second.id, third.id]);
    expect((await claimUnsent(db, 2)).map((r) => r.id)).toEqual([first.id, second.id]);
    const [row] = await claimUnsent(db, 1);
    expect(row).toMatchObject({ id: first.id, kind: 'order_expired', subject_id: first.subject_id, sent_at: null, created_at: at(10) });
    await db.updateTable('outbox').set({ sent_at: at(50) }).where('sent_at', 'is', null).execute();
  });

  it('lets two relays claim at once without sharing an event', async () => {
    const events = [await outboxRow('order_paid', at(1)), await outboxRow('order_paid', at(2)), await outboxRow('order_paid', at(3))];
    const claimed = await db.transaction().execute(async (a) => {
      const mine = await claimUnsent(a, 2);
      // A second relay while the first still holds its rows: it gets only the rest.
      const theirs = await db.transaction().execute((b) => claimUnsent(b, 10));
      return { mine: mine.map((r) => r.id), theirs: theirs.map((r) => r.id) };
    });
    expect(claimed).toEqual({ mine: [events[0]!.id, events[1]!.id], theirs: [events[2]!.id] });
    await db.updateTable('outbox').set({ sent_at: at(50) }).where('sent_at', 'is', null).execute();
  });

  it('deletes events sent before the cutoff only; their notifications stay', async () => {
    const customer = await user();
    const old = await outboxRow('order_expired', at(0));
    await relay(old, factsFor(customer.id), at(1));
    const recent = await outboxRow('order_expired', at(0));
    await relay(recent, factsFor(customer.id), at(30));
    const unsent = await outboxRow('order_expired', at(0));

    expect(await deleteSentBefore(db, at(10))).toBeGreaterThanOrEqual(1);
    const left = (await db.selectFrom('outbox').select('id').where('id', 'in', [old.id, recent.id, unsent.id]).execute()).map((r) => r.id);
    expect(left.sort()).toEqual([recent.id, unsent.id].sort());
    const kept = await db.selectFrom('notifications').select(['outbox_id', 'subject_id']).where('user_id', '=', customer.id).orderBy('created_at').execute();
    expect(kept).toEqual([
      { outbox_id: null, subject_id: old.subject_id },
      { outbox_id: recent.id, subject_id: recent.subject_id },
    ]);
  });

  it("marks a notification read only for its user: someone else's is not_found through core, and nothing changes", async () => {
    const owner = await user();
    const other = await user();
    const admin = await user('admin');
    const event = await outboxRow('order_refunded', at(0));
    await relay(event, factsFor(owner.id), at(1));
    const [{ id }] = (await db.selectFrom('notifications').select('id').where('outbox_id', '=', event.id).execute()) as [{ id: string }];

    for (const intruder of [other, admin]) {
      const decision = decideMarkRead(intruder, await findNotification(db, id), at(2));
      expect(decision).toEqual({ ok: false, error: { type: 'not_found', detail: 'No such notification' } });
    }
    expect((await findNotification(db, id))!.read_at).toBeNull();

    const decision = decideMarkRead(owner, await findNotification(db, id), at(3));
    expect(decision.ok && decision.value.changed).toBe(true);
    expect(await markRead(db, id, at(3))).toBe(true);
    expect(await markRead(db, id, at(4))).toBe(false);
    const read = await findNotification(db, id);
    expect(read!.read_at).toEqual(at(3));
    expect(decideMarkRead(owner, read, at(5))).toEqual({ ok: true, value: { changed: false, notification: read } });
    expect(decideMarkRead(owner, await findNotification(db, randomUUID()), at(5))).toMatchObject({ ok: false, error: { type: 'not_found' } });
  });

  it("lists a user's notifications newest first, ties broken by id, through keyset pages", async () => {
    const owner = await user();
    const other = await user();
    const ids: string[] = [];
    for (const minute of [1, 3, 3, 2, 5]) {
      const event = await outboxRow('order_expired', at(0));
      await relay(event, factsFor(owner.id), at(minute));
      ids.push((await db.selectFrom('notifications').select('id').where('outbox_id', '=', event.id).executeTakeFirstOrThrow()).id);
    }
    await relay(await outboxRow('order_expired', at(0)), factsFor(other.id), at(4));

    const expected = (await db.selectFrom('notifications').select(['id', 'created_at']).where('user_id', '=', owner.id).execute())
      .sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1))
      .map((r) => r.id);
    expect(expected).toHaveLength(5);

    const options = (cursor: string | undefined) => ({
      columns: ['n.created_at', 'n.id'],
      direction: 'desc' as const,
      keyOf: (row: { created_at: Date; id: string }) => [row.created_at.toISOString(), row.id],
      ordering: 'notifications',
      limit: 2,
      cursor,
    });
    const paginator = { secret: 'test-secret' };
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await keysetPage(paginator, notificationsQuery(db, owner.id), options(cursor));
      seen.push(...page.rows.map((r) => r.id));
      expect(page.rows.every((r) => r.user_id === owner.id)).toBe(true);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it('hands out unemailed notifications oldest first with their address; counts failures; e-mails each once', async () => {
    await db.updateTable('notifications').set({ emailed_at: at(0) }).where('emailed_at', 'is', null).execute();
    const customer = await user();
    const first = await outboxRow('order_expired', at(0));
    await relay(first, factsFor(customer.id), at(1));
    const second = await outboxRow('order_refunded', at(0));
    await relay(second, factsFor(customer.id), at(2));

    const pending = await unemailedNotifications(db, { limit: 10, maxAttempts: 2 });
    expect(pending.map((n) => [n.kind, n.email, n.user_is_active, n.email_attempts])).toEqual([
      ['order_expired', customer.email, true, 0],
      ['order_refunded', customer.email, true, 0],
    ]);
    const [a, b] = pending as [(typeof pending)[number], (typeof pending)[number]];

    await recordEmailFailure(db, a.id, 'connect ECONNREFUSED 127.0.0.1:25');
    expect((await unemailedNotifications(db, { limit: 10, maxAttempts: 2 })).map((n) => [n.id, n.email_attempts])).toEqual([
      [a.id, 1],
      [b.id, 0],
    ]);
    await recordEmailFailure(db, a.id, 'x'.repeat(5000));
    // Out of attempts: no longer handed out; the last error is kept, cut short.
    expect((await unemailedNotifications(db, { limit: 10, maxAttempts: 2 })).map((n) => n.id)).toEqual([b.id]);
    const failed = await db.selectFrom('notifications').select(['email_attempts', 'last_email_error', 'emailed_at']).where('id', '=', a.id).executeTakeFirstOrThrow();
    expect(failed).toEqual({ email_attempts: 2, last_email_error: 'x'.repeat(1000), emailed_at: null });

    expect(await markEmailed(db, b.id, at(5))).toBe(true);
    expect(await markEmailed(db, b.id, at(6))).toBe(false);
    await recordEmailFailure(db, b.id, 'late failure after success');
    const sent = await db.selectFrom('notifications').select(['email_attempts', 'last_email_error', 'emailed_at']).where('id', '=', b.id).executeTakeFirstOrThrow();
    expect(sent).toEqual({ email_attempts: 1, last_email_error: null, emailed_at: at(5) });
    expect(await unemailedNotifications(db, { limit: 10, maxAttempts: 2 })).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationKind, NotificationState } from '../../core/notification.js';
import type { Page } from '../../shell/pagination.js';
import { insertNotifications } from '../../shell/repos/notifications.js';
import { insertOutbox } from '../../shell/repos/outbox.js';
import type { Notification } from '../../shell/shapes/notifications.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';

describe('notifications', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(() => ctx.close());

  const at = (minute: number) => new Date(Date.UTC(2026, 10, 2, 10, minute));

  /** What the relay would write: an outbox row and the user's notification of it, in one transaction. */
  async function notify(user: TestUser, createdAt: Date, kind: NotificationKind = 'order_expired', id: string = randomUUID()): Promise<NotificationState> {
    const event = { id: randomUUID(), kind, subject_id: randomUUID() };
    const row: NotificationState = {
      id,
      user_id: user.id,
      outbox_id: event.id,
      kind,
      subject_id: event.subject_id,
      message: `Order #1042 ${kind}`,
      created_at: createdAt,
      read_at: null,
    };
    await ctx.db.transaction().execute(async (trx) => {
      await insertOutbox(trx, { ...event, created_at: createdAt });
      expect(await insertNotifications(trx, [row])).toEqual([row.id]);
    });
    return row;
  }

  const list = (as: TestUser | undefined, query = '') => ctx.request({ method: 'GET', url: `/api/v1/notifications/${query}`, ...(as ? { as } : {}) });
  const read = (as: TestUser | undefined, id: string, extra: { payload?: string; headers?: Record<string, string> } = {}) =>
    ctx.request({ method: 'POST', url: `/api/v1/notifications/${id}/read/`, ...extra, ...(as ? { as } : {}) });

  /** Follows next (or previous) links from `start` to the end, checking each is an absolute URL of this list. */
  async function walk(as: TestUser, start: string, link: 'next' | 'previous'): Promise<Page<Notification>[]> {
    const pages: Page<Notification>[] = [];
    let url: string | null = start;
    while (url !== null) {
      const { pathname, search } = new URL(url, 'http://localhost');
      const res = await ctx.request({ method: 'GET', url: `${pathname}${search}`, as });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<Page<Notification>>();
      pages.push(page);
      for (const l of [page.next, page.previous]) if (l !== null) expect(l).toMatch(/^http:\/\/localhost(:\d+)?\/api\/v1\/notifications\/\?/);
      url = page[link];
      expect(pages.length).toBeLessThan(20);
    }
    return pages;
  }

  it("lists only the caller's notifications, newest first, in the API shape, with Cache-Control no-store", async () => {
    const customer = await ctx.user('customer');
    const vendor = await ctx.user('vendor');
    const older = await notify(customer, at(1), 'order_expired');
    const newer = await notify(customer, at(5), 'order_refunded');
    const theirs = await notify(vendor, at(3), 'order_paid');

    const res = await list(customer);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const page = res.json<Page<Notification>>();
    expect(page).toEqual({
      results: [
        { id: newer.id, kind: 'order_refunded', subject_id: newer.subject_id, message: newer.message, created_at: at(5).toISOString(), read_at: null },
        { id: older.id, kind: 'order_expired', subject_id: older.subject_id, message: older.message, created_at: at(1).toISOString(), read_at: null },
      ],
      next: null,
      previous: null,
    });

    const vendorPage = (await list(vendor)).json<Page<Notification>>();
    expect(vendorPage.results.map((n) => n.id)).toEqual([theirs.id]);
    // Admins see only their own too.
    expect((await list(await ctx.user('admin'))).json<Page<Notification>>().results).toEqual([]);
  });

  it('walks every page with limit=2 forward by next and back by previous, no duplicates or gaps', async () => {
    const customer = await ctx.user('customer');
    // Five notifications, two sharing a created_at so the id breaks the tie.
    const rows = [await notify(customer, at(1)), await notify(customer, at(2)), await notify(customer, at(3)), await notify(customer, at(3)), await notify(customer, at(4))];
    const expected = [...rows].sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1)).map((r) => r.id);

    const forward = await walk(customer, '/api/v1/notifications/?limit=2', 'next');
    expect(forward.map((p) => p.results.length)).toEqual([2, 2, 1]);
    expect(forward.flatMap((p) => p.results.map((n) => n.id))).toEqual(expected);
    expect(forward[0]!.previous).toBeNull();
    expect(forward[1]!.previous).not.toBeNull();
    expect(new URL(forward[0]!.next!).searchParams.get('limit')).toBe('2');

    const backward = await walk(customer, forward.at(-1)!.previous!, 'previous');
    expect(backward.map((p) => p.results.length)).toEqual([2, 2]);
    expect(backward.reverse().flatMap((p) => p.results.map((n) => n.id))).toEqual(expected.slice(0, 4));
  });

  it('refuses a limit out of range and a cursor the server did not issue with 400 validation_failed', async () => {
    const customer = await ctx.user('customer');
    for (const query of ['?limit=0', '?limit=101', '?limit=abc']) {
      const res = await list(customer, query);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
    for (const cursor of ['nonsense', 'eyJrIjpbXX0.forgedmacforgedmacforg']) {
      const res = await list(customer, `?cursor=${cursor}`);
      expect(res.statusCode, cursor).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'query.cursor' }] });
    }
    // A cursor issued for another list (orders) is refused too.
    await notify(customer, at(1));
    await notify(customer, at(2));
    const next = (await list(customer, '?limit=1')).json<Page<Notification>>().next!;
    const foreign = await ctx.request({ method: 'GET', url: `/api/v1/orders/?cursor=${new URL(next).searchParams.get('cursor')}`, as: customer });
    expect(foreign.statusCode).toBe(400);
  });

  it('answers anonymous and bad-token callers with 401', async () => {
    const id = randomUUID();
    for (const res of [
      await list(undefined),
      await read(undefined, id),
      await ctx.request({ method: 'GET', url: '/api/v1/notifications/', headers: { authorization: 'Bearer not-a-token' } }),
    ]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthenticated' });
    }
  });

  it('marks a notification read once: 200 with read_at set, then 200 unchanged', async () => {
    const customer = await ctx.user('customer');
    const n = await notify(customer, at(1));
    ctx.clock.set(at(30));
    try {
      const first = await read(customer, n.id);
      expect(first.statusCode, first.body).toBe(200);
      expect(first.headers['cache-control']).toBe('no-store');
      expect(first.json()).toEqual({ id: n.id, kind: n.kind, subject_id: n.subject_id, message: n.message, created_at: at(1).toISOString(), read_at: at(30).toISOString() });

      ctx.clock.set(at(45));
      // No body, an empty body and {} are all accepted; the first read time is kept.
      for (const extra of [{}, { payload: '', headers: { 'content-type': 'application/json' } }, { payload: '{}', headers: { 'content-type': 'application/json' } }]) {
        const again = await read(customer, n.id, extra);
        expect(again.statusCode, again.body).toBe(200);
        expect(again.json()).toEqual(first.json());
      }
      // Ids compare case-insensitively.
      expect((await read(customer, n.id.toUpperCase())).json()).toEqual(first.json());

      const stored = await ctx.db.selectFrom('notifications').select('read_at').where('id', '=', n.id).executeTakeFirstOrThrow();
      expect(stored.read_at).toEqual(at(30));
      const listed = (await list(customer)).json<Page<Notification>>().results;
      expect(listed).toEqual([first.json()]);
    } finally {
      ctx.clock.real();
    }
  });

  it("answers another user's notification and an unknown id with 404, and changes nothing", async () => {
    const owner = await ctx.user('customer');
    const n = await notify(owner, at(1));
    for (const other of [await ctx.user('customer'), await ctx.user('vendor'), await ctx.user('admin')]) {
      const res = await read(other, n.id);
      expect(res.statusCode, other.role).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'not_found', status: 404 });
    }
    const unknown = await read(owner, randomUUID());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'not_found' });
    const stored = await ctx.db.selectFrom('notifications').select('read_at').where('id', '=', n.id).executeTakeFirstOrThrow();
    expect(stored.read_at).toBeNull();
  });

  it('refuses a non-UUID id and a body with fields with 400 validation_failed', async () => {
    const customer = await ctx.user('customer');
    const n = await notify(customer, at(1));
    const badId = await read(customer, 'not-a-uuid');
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ code: 'validation_failed' });

    const withBody = await read(customer, n.id, { payload: '{"x":1}', headers: { 'content-type': 'application/json' } });
    expect(withBody.statusCode).toBe(400);
    expect(withBody.json()).toMatchObject({ code: 'validation_failed' });
    const stored = await ctx.db.selectFrom('notifications').select('read_at').where('id', '=', n.id).executeTakeFirstOrThrow();
    expect(stored.read_at).toBeNull();
  });

  it('documents both routes in OpenAPI under the notifications tag', async () => {
    const doc = (await ctx.request({ method: 'GET', url: '/docs/json' })).json<{
      tags: { name: string }[];
      paths: Record<string, Record<string, { tags: string[]; security: unknown[]; responses: Record<string, unknown> }>>;
    }>();
    expect(doc.tags.map((t) => t.name)).toContain('notifications');
    const listOp = doc.paths['/api/v1/notifications/']?.get;
    const readOp = doc.paths['/api/v1/notifications/{id}/read/']?.post;
    for (const op of [listOp, readOp]) {
      expect(op?.tags).toEqual(['notifications']);
      expect(op?.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401']));
    }
    expect(Object.keys(readOp?.responses ?? {})).toContain('404');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideMarkRead,
  emailOf,
  messageFor,
  NOTIFICATION_KINDS,
  notificationsFor,
  recipientsOf,
  type NotificationEvent,
  type NotificationState,
  type OrderFacts,
} from '../../core/notification.js';
import type { Actor } from '../../core/policy.js';

const now = new Date('2026-11-02T10:00:00Z');
const customer = 'customer-user';

const facts = (lineVendorIds: string[], vendorUsers: [string, string][] = lineVendorIds.map((v) => [v, `user-of-${v}`])): OrderFacts => ({
  number: 1042,
  customer_id: customer,
  lineVendorIds,
  vendorUsers: new Map(vendorUsers),
});

const event = (kind: NotificationEvent['kind']): NotificationEvent => ({ id: 'outbox-1', kind, subject_id: 'order-1' });

describe('core/notification', () => {
  describe('recipientsOf', () => {
    it('tells the user of each vendor of a paid order, once each, in line order', () => {
      expect(recipientsOf(event('order_paid'), facts(['v1', 'v2', 'v1', 'v3']))).toEqual(['user-of-v1', 'user-of-v2', 'user-of-v3']);
    });

    it('does not tell the customer of a paid order', () => {
      expect(recipientsOf(event('order_paid'), facts(['v1']))).not.toContain(customer);
    });

    it('tells the customer, and only them, of an expired order', () => {
      expect(recipientsOf(event('order_expired'), facts(['v1', 'v2']))).toEqual([customer]);
    });

    it('tells the customer and then each vendor of a refunded order, once each', () => {
      expect(recipientsOf(event('order_refunded'), facts(['v1', 'v2', 'v1']))).toEqual([customer, 'user-of-v1', 'user-of-v2']);
      expect(recipientsOf(event('order_refunded'), facts([]))).toEqual([customer]);
    });

    it('tells nobody of a paid order with no lines', () => {
      expect(recipientsOf(event('order_paid'), facts([]))).toEqual([]);
    });

    it('property: every vendor of a paid order is told exactly once, and nobody else', () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom('v1', 'v2', 'v3', 'v4', 'v5'), { maxLength: 30 }), (lineVendorIds) => {
          const recipients = recipientsOf(event('order_paid'), facts(lineVendorIds));
          expect(new Set(recipients).size).toBe(recipients.length);
          expect(new Set(recipients)).toEqual(new Set(lineVendorIds.map((v) => `user-of-${v}`)));
        }),
      );
    });

    it('property: two vendors of the same user still give that user one notification', () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom('v1', 'v2', 'v3'), { minLength: 1, maxLength: 20 }), (lineVendorIds) => {
          const recipients = recipientsOf(event('order_paid'), facts(lineVendorIds, [['v1', 'same'], ['v2', 'same'], ['v3', 'other']]));
          expect(new Set(recipients).size).toBe(recipients.length);
        }),
      );
    });
  });

  describe('messages', () => {
    it.each(NOTIFICATION_KINDS)('the %s message names the order by its number', (kind) => {
      expect(messageFor(kind, 1042)).toContain('#1042');
    });

    it('each kind says something different', () => {
      const texts = NOTIFICATION_KINDS.map((k) => messageFor(k, 7));
      expect(new Set(texts).size).toBe(NOTIFICATION_KINDS.length);
    });

    it('the e-mail carries the message as its text, with a subject by kind', () => {
      for (const kind of NOTIFICATION_KINDS) {
        const mail = emailOf({ kind, message: messageFor(kind, 1042) });
        expect(mail.text).toBe(messageFor(kind, 1042));
        expect(mail.subject.length).toBeGreaterThan(0);
      }
    });
  });

  describe('notificationsFor', () => {
    it('makes one unread notification per recipient, with the ids given, the event and the message', () => {
      const rows = notificationsFor(event('order_paid'), facts(['v1', 'v2', 'v1']), ['n1', 'n2', 'n3'], now);
      expect(rows).toEqual([
        { id: 'n1', user_id: 'user-of-v1', outbox_id: 'outbox-1', kind: 'order_paid', subject_id: 'order-1', message: messageFor('order_paid', 1042), created_at: now, read_at: null },
        { id: 'n2', user_id: 'user-of-v2', outbox_id: 'outbox-1', kind: 'order_paid', subject_id: 'order-1', message: messageFor('order_paid', 1042), created_at: now, read_at: null },
      ]);
    });

    it('refuses too few ids: a programming error, not a business outcome', () => {
      expect(() => notificationsFor(event('order_paid'), facts(['v1', 'v2']), ['n1'], now)).toThrow(RangeError);
    });

    it('property: ids are distinct and every recipient has exactly one notification', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...NOTIFICATION_KINDS),
          fc.array(fc.constantFrom('v1', 'v2', 'v3', 'v4'), { maxLength: 20 }),
          (kind, lineVendorIds) => {
            const ids = Array.from({ length: 10 }, (_, i) => `n${i}`);
            const rows = notificationsFor(event(kind), facts(lineVendorIds), ids, now);
            expect(rows.map((r) => r.user_id)).toEqual(recipientsOf(event(kind), facts(lineVendorIds)));
            expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
          },
        ),
      );
    });
  });

  describe('decideMarkRead', () => {
    const owner: Actor = { id: 'alice', role: 'customer' };
    const unread: NotificationState = {
      id: 'n1',
      user_id: 'alice',
      outbox_id: 'outbox-1',
      kind: 'order_expired',
      subject_id: 'order-1',
      message: messageFor('order_expired', 1042),
      created_at: new Date('2026-11-02T09:00:00Z'),
      read_at: null,
    };

    it('marks its own unread notification read now', () => {
      expect(decideMarkRead(owner, unread, now)).toEqual({ ok: true, value: { changed: true, notification: { ...unread, read_at: now } } });
    });

    it('leaves a read notification unchanged, keeping the first read time', () => {
      const read = { ...unread, read_at: new Date('2026-11-02T09:30:00Z') };
      expect(decideMarkRead(owner, read, now)).toEqual({ ok: true, value: { changed: false, notification: read } });
    });

    it.each<[string, Actor]>([
      ['another customer', { id: 'bob', role: 'customer' }],
      ['a vendor', { id: 'carol', role: 'vendor' }],
      ['an admin', { id: 'root', role: 'admin' }],
    ])("answers not_found (never forbidden) to %s marking someone else's", (_who, actor) => {
      const result = decideMarkRead(actor, unread, now);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.type).toBe('not_found');
    });

    it('answers not_found for a notification that does not exist', () => {
      const result = decideMarkRead(owner, undefined, now);
      expect(!result.ok && result.error.type).toBe('not_found');
    });
  });
});

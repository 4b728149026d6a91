import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canTransitionCheckout,
  CHECKOUT_STATUSES,
  checkoutView,
  complete,
  decideCancel,
  decideConfirm,
  decideUpdate,
  effectiveStatus,
  reopen,
  STORED_CHECKOUT_STATUSES,
  type CheckoutState,
  type CheckoutStatus,
  type LiveLine,
  type LiveProduct,
  type StoredCheckoutStatus,
} from '../../core/checkout.js';
import type { Result } from '../../core/errors.js';
import { openCheckout } from './fixtures.js';

const now = new Date('2026-11-25T12:00:00Z');
const address = { line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' };
const product = (id: string, fields: Partial<LiveProduct> = {}): LiveProduct => ({ id, vendor_id: 'v1', name: `P ${id}`, unit_price: 250, stock: 10, available: true, ...fields });
const line = (id: string, quantity: number, fields: Partial<LiveProduct> = {}): LiveLine => ({ item_id: `item-${id}`, product: product(id, fields), quantity });
const open = (fields: Partial<CheckoutState> = {}): CheckoutState => ({ ...openCheckout('co', 'cart'), shipping_address: address, ...fields });
const TTL = 900;

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.error.type);
  return result.value;
}

function confirmed(lines: LiveLine[] = [line('a', 2)], at = now): CheckoutState {
  const decision = decideConfirm(open(), lines, at, TTL);
  if (!decision.ok) throw new Error(decision.error.type);
  return decision.value.checkout;
}

describe('checkout decisions', () => {
  it('refuses to confirm with cart_empty, checkout_incomplete, product_unavailable, insufficient_stock', () => {
    expect(decideConfirm(open(), [], now, TTL)).toMatchObject({ ok: false, error: { type: 'cart_empty' } });
    expect(decideConfirm(open({ shipping_address: null }), [line('a', 1)], now, TTL)).toMatchObject({ ok: false, error: { type: 'checkout_incomplete' } });
    expect(decideConfirm(open(), [line('a', 1, { available: false })], now, TTL)).toMatchObject({ ok: false, error: { type: 'product_unavailable', product_id: 'a' } });
    expect(decideConfirm(open(), [line('a', 11)], now, TTL)).toMatchObject({ ok: false, error: { type: 'insufficient_stock', items: [{ product_id: 'a', requested: 11, available: 10 }] } });
  });

  it('freezes items and prices with expires_at = now + TTL; confirming again returns it unchanged', () => {
    const c = confirmed([line('a', 2), line('b', 1, { unit_price: 99 })]);
    expect(c).toMatchObject({ status: 'confirmed', subtotal: 599, total: 599, confirmed_at: now, expires_at: new Date(now.getTime() + TTL * 1000) });
    expect(c.frozen_items).toEqual([
      { product_id: 'a', vendor_id: 'v1', name: 'P a', unit_price: 250, quantity: 2, line_total: 500 },
      { product_id: 'b', vendor_id: 'v1', name: 'P b', unit_price: 99, quantity: 1, line_total: 99 },
    ]);
    const again = decideConfirm(c, [line('a', 7, { unit_price: 1 })], new Date(now.getTime() + 1000), TTL);
    expect(again).toEqual({ ok: true, value: { checkout: c, changed: false } });
  });

  it('derives expired from time, and confirms an expired checkout anew after re-checking', () => {
    const c = confirmed();
    const after = new Date(c.expires_at!.getTime());
    expect(effectiveStatus(c, new Date(after.getTime() - 1))).toBe('confirmed');
    expect(effectiveStatus(c, after)).toBe('expired');
    expect(decideConfirm(c, [line('a', 20)], after, TTL)).toMatchObject({ ok: false, error: { type: 'insufficient_stock' } });
    const anew = decideConfirm(c, [line('a', 3)], after, TTL);
    expect(anew).toMatchObject({ ok: true, value: { changed: true, checkout: { status: 'confirmed', subtotal: 750, confirmed_at: after } } });
  });

  it('allows updates while open or expired (reopening), refuses them while confirmed or completed', () => {
    expect(decideUpdate(open(), { contact_phone: '555' }, now)).toMatchObject({ ok: true, value: { contact_phone: '555', status: 'open' } });
    const c = confirmed();
    expect(decideUpdate(c, { contact_phone: '555' }, now)).toMatchObject({ ok: false, error: { type: 'checkout_not_open' } });
    expect(decideUpdate(c, { contact_phone: '555' }, c.expires_at!)).toMatchObject({ ok: true, value: { status: 'open', frozen_items: null, expires_at: null } });
    expect(decideUpdate({ ...c, status: 'completed' }, {}, now)).toMatchObject({ ok: false, error: { type: 'checkout_not_open' } });
  });

  it('cancel reopens a confirmed or expired checkout, leaves an open one, refuses a completed one', () => {
    const c = confirmed();
    expect(decideCancel(c, now)).toMatchObject({ ok: true, value: { status: 'open', frozen_items: null, total: null } });
    const o = open();
    expect(decideCancel(o, now)).toEqual({ ok: true, value: o });
    expect(decideCancel({ ...c, status: 'completed' }, now)).toMatchObject({ ok: false, error: { type: 'checkout_not_open' } });
  });

  it('shows live items and problems while open, frozen items and no problems while confirmed', () => {
    const view = checkoutView(open({ shipping_address: null }), [line('a', 1, { available: false }), line('b', 20)], 'USD', now);
    expect(view.problems.map((p) => [p.code, p.product_id])).toEqual([
      ['checkout_incomplete', null],
      ['product_unavailable', 'a'],
      ['insufficient_stock', 'b'],
    ]);
    expect(checkoutView(openCheckout('co', 'cart'), [], 'USD', now).problems.map((p) => p.code)).toEqual(['cart_empty', 'checkout_incomplete']);
    const c = confirmed();
    const frozenView = checkoutView(c, [line('a', 9, { unit_price: 1 })], 'USD', now);
    expect(frozenView).toMatchObject({ status: 'confirmed', problems: [], subtotal: 500, total: 500, items: [{ product_id: 'a', quantity: 2, unit_price: 250 }] });
  });

  it('completes only a confirmed, unexpired checkout: checkout_not_confirmed while open or completed, checkout_expired past expires_at', () => {
    const c = confirmed();
    expect(complete(c, now)).toEqual({ ok: true, value: { ...c, status: 'completed' } });
    expect(complete(open(), now)).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    expect(complete(value(complete(c, now)), now)).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    expect(complete(c, c.expires_at!)).toMatchObject({ ok: false, error: { type: 'checkout_expired' } });
  });

  it('reopens a confirmed or expired checkout, refuses an open one (checkout_not_confirmed) and a completed one (checkout_not_open)', () => {
    const c = confirmed();
    const reopened = { ...c, status: 'open', frozen_items: null, subtotal: null, total: null, confirmed_at: null, expires_at: null };
    expect(reopen(c, now)).toEqual({ ok: true, value: reopened });
    expect(reopen(c, c.expires_at!)).toEqual({ ok: true, value: reopened });
    expect(reopen(open(), now)).toMatchObject({ ok: false, error: { type: 'checkout_not_confirmed' } });
    expect(reopen(value(complete(c, now)), now)).toMatchObject({ ok: false, error: { type: 'checkout_not_open' } });
  });

  it('refuses to confirm a completed checkout with checkout_not_open', () => {
    expect(decideConfirm(value(complete(confirmed(), now)), [line('a', 1)], now, TTL)).toMatchObject({ ok: false, error: { type: 'checkout_not_open' } });
  });

  it('freezes a total that is always the sum of its line totals', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), quantity: fc.integer({ min: 1, max: 999 }), unit_price: fc.integer({ min: 1, max: 10_000_000 }) }), { selector: (l) => l.id, minLength: 1, maxLength: 20 }),
        (lines) => {
          const decision = decideConfirm(open(), lines.map((l) => line(l.id, l.quantity, { unit_price: l.unit_price, stock: 999 })), now, TTL);
          expect(decision.ok).toBe(true);
          if (!decision.ok) return;
          const c = decision.value.checkout;
          expect(c.total).toBe(c.frozen_items!.reduce((s, f) => s + f.line_total, 0));
          for (const f of c.frozen_items!) expect(f.line_total).toBe(f.unit_price * f.quantity);
        },
      ),
    );
  });

  describe('the machine', () => {
    // The contract's transitions, written out independently of core: status seen now > status stored next.
    const allowed = new Set(['open>confirmed', 'confirmed>open', 'confirmed>completed', 'expired>open', 'expired>confirmed']);

    /** A checkout that shows `status` at the returned time. */
    function seen(status: CheckoutStatus): { checkout: CheckoutState; at: Date } {
      const c = confirmed();
      switch (status) {
        case 'open':
          return { checkout: open(), at: now };
        case 'confirmed':
          return { checkout: c, at: now };
        case 'expired':
          return { checkout: c, at: c.expires_at! };
        case 'completed':
          return { checkout: value(complete(c, now)), at: now };
      }
    }

    /** The one function that asks for `to`, and whether it made that transition. */
    function attempt(checkout: CheckoutState, to: StoredCheckoutStatus, at: Date): boolean {
      if (to === 'open') return reopen(checkout, at).ok;
      if (to === 'completed') return complete(checkout, at).ok;
      const decision = decideConfirm(checkout, [line('a', 1)], at, TTL);
      return decision.ok && decision.value.changed;
    }

    it('accepts exactly the table\'s pairs, for every status seen and every status stored next', () => {
      fc.assert(
        fc.property(fc.constantFrom(...CHECKOUT_STATUSES), fc.constantFrom(...STORED_CHECKOUT_STATUSES), (from, to) => {
          const { checkout, at } = seen(from);
          expect(effectiveStatus(checkout, at)).toBe(from);
          expect(canTransitionCheckout(from, to)).toBe(allowed.has(`${from}>${to}`));
          expect(attempt(checkout, to, at), `${from} → ${to}`).toBe(allowed.has(`${from}>${to}`));
        }),
      );
    });

    it('never stores expired and never leaves the table, over any sequence of commands and clock moves', () => {
      const command = fc.oneof(
        fc.record({ kind: fc.constant('confirm' as const), lines: fc.constantFrom([line('a', 2)], [], [line('a', 11)], [line('a', 1, { available: false })]) }),
        fc.record({ kind: fc.constant('update' as const), address: fc.boolean() }),
        fc.constant({ kind: 'cancel' as const }),
        fc.constant({ kind: 'reopen' as const }),
        fc.constant({ kind: 'complete' as const }),
        fc.record({ kind: fc.constant('wait' as const), seconds: fc.constantFrom(1, TTL - 1, TTL, TTL + 1) }),
      );
      fc.assert(
        fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
          let checkout = open({ shipping_address: null });
          let at = now;
          for (const cmd of commands) {
            if (cmd.kind === 'wait') {
              at = new Date(at.getTime() + cmd.seconds * 1000);
              continue;
            }
            const before = effectiveStatus(checkout, at);
            const result: Result<CheckoutState> =
              cmd.kind === 'confirm'
                ? (() => {
                    const d = decideConfirm(checkout, cmd.lines, at, TTL);
                    return d.ok ? { ok: true, value: d.value.checkout } : d;
                  })()
                : cmd.kind === 'update'
                  ? decideUpdate(checkout, cmd.address ? { shipping_address: address } : { contact_phone: '555' }, at)
                  : cmd.kind === 'cancel'
                    ? decideCancel(checkout, at)
                    : cmd.kind === 'reopen'
                      ? reopen(checkout, at)
                      : complete(checkout, at);
            if (before === 'completed') expect(result.ok, `a completed checkout refuses ${cmd.kind}`).toBe(false);
            if (!result.ok) continue;
            const after = result.value;
            expect(STORED_CHECKOUT_STATUSES).toContain(after.status);
            if (effectiveStatus(after, at) !== before) expect(canTransitionCheckout(before, after.status), `${before} → ${after.status} by ${cmd.kind}`).toBe(true);
            checkout = after;
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});

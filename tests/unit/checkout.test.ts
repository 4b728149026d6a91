import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkoutView, decideCancel, decideConfirm, decideUpdate, effectiveStatus, newCheckout, type CheckoutState, type LiveLine, type ProductFacts } from '../../core/checkout.js';

const now = new Date('2026-11-25T12:00:00Z');
const address = { line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' };
const product = (id: string, fields: Partial<ProductFacts> = {}): ProductFacts => ({ id, vendor_id: 'v1', name: `P ${id}`, unit_price: 250, stock: 10, available: true, ...fields });
const line = (id: string, quantity: number, fields: Partial<ProductFacts> = {}): LiveLine => ({ item_id: `item-${id}`, product: product(id, fields), quantity });
const open = (fields: Partial<CheckoutState> = {}): CheckoutState => ({ ...newCheckout('co', 'cart'), shipping_address: address, ...fields });
const TTL = 900;

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
    expect(checkoutView(newCheckout('co', 'cart'), [], 'USD', now).problems.map((p) => p.code)).toEqual(['cart_empty', 'checkout_incomplete']);
    const c = confirmed();
    const frozenView = checkoutView(c, [line('a', 9, { unit_price: 1 })], 'USD', now);
    expect(frozenView).toMatchObject({ status: 'confirmed', problems: [], subtotal: 500, total: 500, items: [{ product_id: 'a', quantity: 2, unit_price: 250 }] });
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
});

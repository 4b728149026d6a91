import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_UNIT_PRICE } from '../../core/money.js';
import type { Actor } from '../../core/policy.js';
import {
  authorizeProductRead,
  authorizeProductWrite,
  decideProductCreation,
  decideProductUpdate,
  escapeLikePattern,
  isPubliclyVisible,
  MAX_STOCK,
  validateProductFields,
  validateProductListFilters,
  type ProductCreation,
  type ProductAccess,
} from '../../core/product.js';

const ownerUser: Actor = { id: 'u-owner', role: 'vendor' };
const otherVendor: Actor = { id: 'u-other', role: 'vendor' };
const customer: Actor = { id: 'u-customer', role: 'customer' };
const admin: Actor = { id: 'u-admin', role: 'admin' };

const product = (facts: Partial<ProductAccess> = {}): ProductAccess => ({
  is_active: true,
  deleted_at: null,
  vendor_is_active: true,
  vendor_user_is_active: true,
  vendor_user_id: ownerUser.id,
  ...facts,
});

const creation = (command: Partial<ProductCreation> = {}): ProductCreation => ({
  fields: { name: 'Pan', unit_price: 100, stock: 0 },
  requestedVendorId: undefined,
  callerVendorId: 'v-owner',
  requestedVendorExists: false,
  categoryExists: true,
  ...command,
});

const errorType = (r: { ok: boolean; error?: { type: string } }) => (r.ok ? 'ok' : r.error!.type);

describe('product visibility', () => {
  it('is public only when active, not deleted, of an active vendor and of an active vendor user', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), (active, deleted, vendorActive, vendorUserActive) => {
        const p = product({ is_active: active, deleted_at: deleted ? new Date(0) : null, vendor_is_active: vendorActive, vendor_user_is_active: vendorUserActive });
        expect(isPubliclyVisible(p)).toBe(active && !deleted && vendorActive && vendorUserActive);
      }),
    );
  });

  it('hides a deactivated vendor user\'s product from others, as a deactivated vendor\'s, and keeps it writable by admins', () => {
    const userGone = product({ vendor_user_is_active: false });
    expect(errorType(authorizeProductRead(null, userGone))).toBe('not_found');
    expect(errorType(authorizeProductRead(customer, userGone))).toBe('not_found');
    expect(errorType(authorizeProductRead(admin, userGone))).toBe('ok');
    expect(errorType(authorizeProductWrite(otherVendor, userGone))).toBe('not_found');
    expect(errorType(authorizeProductWrite(admin, userGone))).toBe('ok');
  });

  it('shows a hidden product to its owner and admins only, and a deleted one to nobody', () => {
    const hidden = product({ is_active: false });
    expect(errorType(authorizeProductRead(null, hidden))).toBe('not_found');
    expect(errorType(authorizeProductRead(customer, hidden))).toBe('not_found');
    expect(errorType(authorizeProductRead(otherVendor, hidden))).toBe('not_found');
    expect(errorType(authorizeProductRead(ownerUser, hidden))).toBe('ok');
    expect(errorType(authorizeProductRead(admin, hidden))).toBe('ok');
    const deleted = product({ deleted_at: new Date(0) });
    for (const actor of [null, customer, ownerUser, admin]) expect(errorType(authorizeProductRead(actor, deleted))).toBe('not_found');
    expect(errorType(authorizeProductRead(null, product()))).toBe('ok');
  });
});

describe('product write rules', () => {
  it('accepts integer prices from 1 to MAX_UNIT_PRICE and integer stock from 0, and nothing else', () => {
    const price = fc.oneof(fc.integer(), fc.double(), fc.integer({ min: MAX_UNIT_PRICE - 2, max: MAX_UNIT_PRICE + 2 }), fc.constant(Number.MAX_SAFE_INTEGER));
    fc.assert(
      fc.property(price, fc.oneof(fc.integer(), fc.double()), (unit_price, stock) => {
        const valid = Number.isSafeInteger(unit_price) && unit_price > 0 && unit_price <= MAX_UNIT_PRICE && Number.isInteger(stock) && stock >= 0 && stock <= MAX_STOCK;
        expect(validateProductFields({ unit_price, stock }).ok).toBe(valid);
      }),
    );
  });

  it('refuses a unit price above 10^9 minor units at unit_price', () => {
    expect(MAX_UNIT_PRICE).toBe(1_000_000_000);
    expect(validateProductFields({ unit_price: MAX_UNIT_PRICE }).ok).toBe(true);
    for (const unit_price of [MAX_UNIT_PRICE + 1, Number.MAX_SAFE_INTEGER]) {
      expect(validateProductFields({ unit_price })).toMatchObject({ ok: false, error: { type: 'validation_failed', errors: [{ path: 'unit_price' }] } });
    }
  });

  it('names every bad field', () => {
    const result = validateProductFields({ name: ' ', unit_price: 0, stock: -1 });
    expect(result.ok).toBe(false);
    if (!result.ok && result.error.type === 'validation_failed') expect(result.error.errors.map((e) => e.path)).toEqual(['name', 'unit_price', 'stock']);
  });

  it('lets a vendor with a profile create for their own vendor only', () => {
    const decided = decideProductCreation(ownerUser, creation());
    expect(decided).toEqual({ ok: true, value: { vendor_id: 'v-owner' } });
    expect(errorType(decideProductCreation(ownerUser, creation({ callerVendorId: null })))).toBe('forbidden');
    expect(errorType(decideProductCreation(ownerUser, creation({ requestedVendorId: 'v-owner' })))).toBe('forbidden');
    expect(errorType(decideProductCreation(customer, creation()))).toBe('forbidden');
  });

  it('requires an existing vendor_id from an admin', () => {
    expect(decideProductCreation(admin, creation({ requestedVendorId: 'v-1', requestedVendorExists: true }))).toEqual({ ok: true, value: { vendor_id: 'v-1' } });
    expect(errorType(decideProductCreation(admin, creation()))).toBe('validation_failed');
    expect(errorType(decideProductCreation(admin, creation({ requestedVendorId: 'v-1', requestedVendorExists: false })))).toBe('validation_failed');
  });

  it('refuses an unknown category', () => {
    const result = decideProductCreation(ownerUser, creation({ categoryExists: false }));
    expect(result).toMatchObject({ ok: false, error: { type: 'validation_failed', errors: [{ path: 'category_id' }] } });
  });

  it('lets only the owner and admins change a product: 403 to others when public, 404 when hidden or deleted', () => {
    const pub = product();
    const hidden = product({ vendor_is_active: false });
    expect(errorType(authorizeProductWrite(ownerUser, hidden))).toBe('ok');
    expect(errorType(authorizeProductWrite(admin, hidden))).toBe('ok');
    expect(errorType(authorizeProductWrite(otherVendor, pub))).toBe('forbidden');
    expect(errorType(authorizeProductWrite(otherVendor, hidden))).toBe('not_found');
    expect(errorType(authorizeProductWrite(customer, pub))).toBe('forbidden');
    expect(errorType(authorizeProductWrite(admin, product({ deleted_at: new Date(0) })))).toBe('not_found');
  });

  it('keeps vendor_id admin-only on update, after ownership so hidden products stay hidden', () => {
    const update = { fields: {}, sent: ['vendor_id'], categoryExists: true, vendorExists: true };
    expect(errorType(decideProductUpdate(ownerUser, product(), update))).toBe('forbidden');
    expect(errorType(decideProductUpdate(admin, product(), update))).toBe('ok');
    expect(errorType(decideProductUpdate(otherVendor, product({ is_active: false }), update))).toBe('not_found');
    expect(errorType(decideProductUpdate(admin, product(), { ...update, vendorExists: false }))).toBe('validation_failed');
    expect(errorType(decideProductUpdate(ownerUser, product(), { fields: {}, sent: ['category_id'], categoryExists: false, vendorExists: true }))).toBe('validation_failed');
  });
});

describe('list filters', () => {
  it('refuses a price range whose bounds cross, and accepts equal bounds', () => {
    expect(errorType(validateProductListFilters({ min_price: 5, max_price: 4 }))).toBe('validation_failed');
    expect(errorType(validateProductListFilters({ min_price: 5, max_price: 5 }))).toBe('ok');
    expect(errorType(validateProductListFilters({ min_price: 5 }))).toBe('ok');
  });

  it('escapes LIKE wildcards and the escape character itself', () => {
    expect(escapeLikePattern('50%_off\\now')).toBe('50\\%\\_off\\\\now');
    fc.assert(
      fc.property(fc.string(), (text) => {
        const unescaped = escapeLikePattern(text).replace(/\\(.)/g, '$1');
        expect(unescaped).toBe(text);
      }),
    );
  });
});

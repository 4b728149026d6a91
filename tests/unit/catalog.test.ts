import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAccountNumber } from '../../core/bank.js';
import {
  SLUG_MAX_LENGTH,
  categorySlug,
  MAX_IMAGES_PER_PRODUCT,
  MAX_IMAGE_PIXELS,
  decideBankAccountVendor,
  decideImageAddition,
  decideVendorOwner,
  detectImageType,
  isCanonicalSlug,
  judgeImage,
  slugify,
  updatedCategorySlug,
} from '../../core/catalog.js';
import type { Actor } from '../../core/policy.js';

const vendor: Actor = { id: 'u-vendor', role: 'vendor' };
const admin: Actor = { id: 'u-admin', role: 'admin' };
const customer: Actor = { id: 'u-customer', role: 'customer' };

describe('category slugs', () => {
  it('derives lower-case hyphenated slugs with diacritics stripped', () => {
    expect(slugify('Garden & Outdoor Tools')).toBe('garden-outdoor-tools');
    expect(slugify('  Crème Brûlée  ')).toBe('creme-brulee');
    expect(slugify('Ærø Ⅻ ｆｕｌｌ width')).toBe('ærø-xii-full-width');
    expect(slugify('İstanbul')).toBe('istanbul');
  });

  it('keeps letters and digits of every script', () => {
    expect(slugify('Книги и журналы')).toBe('книги-и-журналы');
    expect(slugify('家電 2024')).toBe('家電-2024');
    expect(slugify('हिन्दी किताबें')).toBe('हिन्दी-किताबें');
  });

  it('finds nothing to slug in a name of only punctuation or emoji', () => {
    expect(slugify('!!! ???')).toBeNull();
    expect(slugify('🎉🎉')).toBeNull();
    expect(categorySlug({ name: '—' })).toEqual({ ok: false, error: expect.objectContaining({ type: 'validation_failed' }) });
  });

  it('cuts long names at the maximum length without a trailing hyphen or a split character', () => {
    const slug = slugify(`${'a'.repeat(SLUG_MAX_LENGTH - 1)} b`)!;
    expect(slug).toBe('a'.repeat(SLUG_MAX_LENGTH - 1));
    // A letter outside the BMP (two UTF-16 units) must be cut whole.
    const astral = slugify('𠜎'.repeat(150))!;
    expect(Array.from(astral)).toHaveLength(SLUG_MAX_LENGTH);
    expect(astral).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('always produces a canonical slug the database accepts, or none', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 150 }), (name) => {
        const slug = slugify(name);
        if (slug === null) return;
        expect(isCanonicalSlug(slug)).toBe(true);
        expect(slug).toMatch(/^[^A-Z/\s]+$/);
        expect(slug).not.toMatch(/^-|-$|--/);
        expect(Array.from(slug).length).toBeLessThanOrEqual(SLUG_MAX_LENGTH);
      }),
    );
  });

  it('takes a given slug only when it is canonical', () => {
    expect(categorySlug({ name: 'Books', slug: 'old-books' })).toEqual({ ok: true, value: 'old-books' });
    const refused = categorySlug({ name: 'Books', slug: 'Old Books' });
    expect(refused.ok).toBe(false);
    if (!refused.ok && refused.error.type === 'validation_failed') expect(refused.error.errors[0]!.path).toBe('slug');
  });

  it('re-derives the slug when only the name changes, and keeps it when neither does', () => {
    expect(updatedCategorySlug({ slug: 'books' }, { name: 'Rare Books' })).toEqual({ ok: true, value: 'rare-books' });
    expect(updatedCategorySlug({ slug: 'books' }, { name: 'Rare Books', slug: 'rare' })).toEqual({ ok: true, value: 'rare' });
    expect(updatedCategorySlug({ slug: 'books' }, {})).toEqual({ ok: true, value: 'books' });
  });
});

describe('who owns a new vendor profile', () => {
  it('is the calling vendor', () => {
    expect(decideVendorOwner(vendor, {}, null)).toEqual({ ok: true, value: 'u-vendor' });
  });

  it('refuses customers and vendors naming a user', () => {
    expect(decideVendorOwner(customer, {}, null)).toMatchObject({ ok: false, error: { type: 'forbidden' } });
    expect(decideVendorOwner(vendor, { userId: 'u-other' }, null)).toMatchObject({ ok: false, error: { type: 'forbidden' } });
  });

  it('is the vendor user an admin names, and only a vendor user', () => {
    expect(decideVendorOwner(admin, { userId: 'u-v2' }, { exists: true, role: 'vendor' })).toEqual({ ok: true, value: 'u-v2' });
    expect(decideVendorOwner(admin, { userId: 'u-c' }, { exists: true, role: 'customer' })).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
    expect(decideVendorOwner(admin, { userId: 'u-x' }, null)).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
    expect(decideVendorOwner(admin, {}, null)).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
  });
});

describe('which vendor a bank account belongs to', () => {
  it("is the vendor's own profile, which must exist", () => {
    expect(decideBankAccountVendor(vendor, {}, { vendorId: 'v1' }, null)).toEqual({ ok: true, value: 'v1' });
    expect(decideBankAccountVendor(vendor, {}, { vendorId: null }, null)).toMatchObject({ ok: false, error: { type: 'forbidden' } });
  });

  it('refuses vendor_id from a vendor, and customers altogether', () => {
    expect(decideBankAccountVendor(vendor, { vendorId: 'v2' }, { vendorId: 'v1' }, null)).toMatchObject({ ok: false, error: { type: 'forbidden' } });
    expect(decideBankAccountVendor(customer, {}, { vendorId: null }, null)).toMatchObject({ ok: false, error: { type: 'forbidden' } });
  });

  it('is the existing vendor an admin names', () => {
    expect(decideBankAccountVendor(admin, { vendorId: 'v2' }, { vendorId: null }, { exists: true })).toEqual({ ok: true, value: 'v2' });
    expect(decideBankAccountVendor(admin, { vendorId: 'v9' }, { vendorId: null }, { exists: false })).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
    expect(decideBankAccountVendor(admin, {}, { vendorId: null }, null)).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
  });
});

describe('account numbers', () => {
  it('are 6 to 34 letters and digits, shown only by their last four', () => {
    expect(checkAccountNumber('0123456789')).toEqual({ ok: true, value: { accountNumber: '0123456789', last4: '6789' } });
    expect(checkAccountNumber('GB82WEST12345698765432')).toMatchObject({ ok: true, value: { last4: '5432' } });
    for (const bad of ['12345', 'x'.repeat(35), '1234 5678', '1234-5678', '']) {
      expect(checkAccountNumber(bad), bad).toMatchObject({ ok: false, error: { type: 'validation_failed' } });
    }
  });
});

describe('image types by magic bytes', () => {
  const bytes = (...b: number[]) => new Uint8Array([...b, ...new Array(16).fill(0)]);
  it('recognises jpeg, png and webp from their first bytes', () => {
    expect(detectImageType(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg');
    expect(detectImageType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('image/png');
    expect(detectImageType(bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50))).toBe('image/webp');
  });

  it('refuses everything else, including other RIFF files and GIFs', () => {
    expect(detectImageType(bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x41, 0x56, 0x45))).toBeNull();
    expect(detectImageType(new TextEncoder().encode('GIF89a....'))).toBeNull();
    expect(detectImageType(new TextEncoder().encode('%PDF-1.7'))).toBeNull();
    expect(detectImageType(new Uint8Array([0xff, 0xd8]))).toBeNull();
    expect(judgeImage(new Uint8Array(), null)).toEqual({ kind: 'empty' });
    expect(judgeImage(new TextEncoder().encode('<svg/>'), null)).toEqual({ kind: 'unsupported' });
    expect(judgeImage(bytes(0xff, 0xd8, 0xff), { width: 640, height: 480, type: 'jpg' })).toEqual({ kind: 'accepted', contentType: 'image/jpeg', extension: 'jpg', width: 640, height: 480 });
  });

  it('refuses a file of an accepted type whose header gives no dimensions, or those of another format', () => {
    const jpeg = bytes(0xff, 0xd8, 0xff);
    expect(judgeImage(jpeg, null)).toEqual({ kind: 'unreadable' });
    expect(judgeImage(jpeg, { width: 10, height: 10, type: 'png' })).toEqual({ kind: 'unreadable' });
    expect(judgeImage(jpeg, { width: 0, height: 10, type: 'jpg' })).toEqual({ kind: 'unreadable' });
  });

  it('accepts up to 50 megapixels as the header declares them, and refuses more', () => {
    const png = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    expect(MAX_IMAGE_PIXELS).toBe(50_000_000);
    expect(judgeImage(png, { width: 10_000, height: 5_000, type: 'png' })).toMatchObject({ kind: 'accepted' });
    expect(judgeImage(png, { width: 10_000, height: 5_001, type: 'png' })).toEqual({ kind: 'too_many_pixels', width: 10_000, height: 5_001 });
    expect(judgeImage(png, { width: 100_000, height: 100_000, type: 'png' })).toMatchObject({ kind: 'too_many_pixels' });
  });
});

describe('images per product', () => {
  it('allows a tenth image and refuses an eleventh with image_limit_reached', () => {
    expect(MAX_IMAGES_PER_PRODUCT).toBe(10);
    expect(decideImageAddition(0)).toEqual({ ok: true, value: undefined });
    expect(decideImageAddition(9)).toEqual({ ok: true, value: undefined });
    expect(decideImageAddition(10)).toMatchObject({ ok: false, error: { type: 'image_limit_reached' } });
    expect(decideImageAddition(11)).toMatchObject({ ok: false, error: { type: 'image_limit_reached' } });
  });
});

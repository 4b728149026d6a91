import { fail, ok, type Result } from './errors.js';
import { authorizeFields, isAdmin, type Actor } from './policy.js';

/**
 * Catalog rules that are not products: category slugs, who may create a vendor profile, and which
 * image bytes the catalog accepts.
 */

export const SLUG_MAX_LENGTH = 100;

// Diacritics of Latin, Greek and Cyrillic letters decompose (NFKD) into this block; marks of other
// scripts (Devanagari vowel signs, Thai tone marks…) are part of the letters and are kept.
const COMBINING_DIACRITICS = /[\u0300-\u036f]/g;
const NOT_SLUG_CHARACTER = /[^\p{L}\p{N}\p{M}]+/gu;

/**
 * The slug of a name: lower case, diacritics stripped, runs of anything that is not a letter, digit or
 * combining mark turned into one hyphen, no hyphen at either end, at most SLUG_MAX_LENGTH code points.
 * Returns null when nothing sluggable is left (a name of only punctuation or emoji).
 */
export function slugify(name: string): string | null {
  // Decompose before lower-casing: compatibility forms (𝐀, ｆ, Ⅻ) only have a lower case once decomposed.
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .normalize('NFKD')
    .replace(COMBINING_DIACRITICS, '')
    .replace(NOT_SLUG_CHARACTER, '-')
    .replace(/^-+|-+$/g, '');
  // Cut by code points so a surrogate pair is never split, then recompose what is left.
  const cut = Array.from(base).slice(0, SLUG_MAX_LENGTH).join('').replace(/-+$/, '').normalize('NFC');
  return cut.length > 0 && /[\p{L}\p{N}]/u.test(cut) ? cut : null;
}

/** A client-given slug is taken as is only when it is already in canonical form. */
export function isCanonicalSlug(slug: string): boolean {
  return slug.length > 0 && slugify(slug) === slug;
}

/** The slug a category gets: the one given (if canonical) or one derived from its name. */
export function categorySlug(input: { name: string; slug?: string | undefined }): Result<string> {
  if (input.slug !== undefined) {
    if (isCanonicalSlug(input.slug)) return ok(input.slug);
    return fail({
      type: 'validation_failed',
      errors: [{ path: 'slug', message: `Use lower-case letters, digits and single hyphens (for example "${slugify(input.slug) ?? 'garden-tools'}")` }],
    });
  }
  const derived = slugify(input.name);
  if (derived === null) {
    return fail({ type: 'validation_failed', errors: [{ path: 'name', message: 'The name has no letters or digits to derive a slug from; send a slug' }] });
  }
  return ok(derived);
}

/**
 * Slug after a category update: an explicit slug wins; a new name without one re-derives it, so
 * slugs follow names (a changed name is a changed category page).
 */
export function updatedCategorySlug(current: { slug: string }, change: { name?: string | undefined; slug?: string | undefined }): Result<string> {
  if (change.slug !== undefined || change.name !== undefined) {
    return categorySlug({ name: change.name ?? '', slug: change.slug });
  }
  return ok(current.slug);
}

/** Who gets the new vendor profile: a vendor creates their own; an admin names a vendor user. */
export function decideVendorOwner(
  actor: Actor,
  given: { userId?: string | undefined },
  target: { exists: boolean; role: string | null } | null,
): Result<string> {
  if (actor.role === 'customer') return fail({ type: 'forbidden', detail: 'Only vendors (or admins) create vendor profiles' });
  const fields = authorizeFields(actor, given.userId === undefined ? [] : ['user_id'], ['user_id']);
  if (!fields.ok) return fields;
  if (!isAdmin(actor)) return ok(actor.id);
  if (given.userId === undefined) {
    return fail({ type: 'validation_failed', errors: [{ path: 'user_id', message: 'Required when an admin creates a vendor profile' }] });
  }
  if (!target?.exists || target.role !== 'vendor') {
    return fail({ type: 'validation_failed', errors: [{ path: 'user_id', message: 'Must be the id of a user with the role vendor' }] });
  }
  return ok(given.userId);
}

/** Which vendor a bank account is created for: the caller's own profile, or for an admin the one named. */
export function decideBankAccountVendor(
  actor: Actor,
  given: { vendorId?: string | undefined },
  own: { vendorId: string | null },
  named: { exists: boolean } | null,
): Result<string> {
  const fields = authorizeFields(actor, given.vendorId === undefined ? [] : ['vendor_id'], ['vendor_id']);
  if (!fields.ok) return fields;
  if (isAdmin(actor)) {
    if (given.vendorId === undefined) {
      return fail({ type: 'validation_failed', errors: [{ path: 'vendor_id', message: 'Required when an admin creates a bank account' }] });
    }
    if (!named?.exists) return fail({ type: 'validation_failed', errors: [{ path: 'vendor_id', message: 'No vendor with this id' }] });
    return ok(given.vendorId);
  }
  if (actor.role !== 'vendor') return fail({ type: 'forbidden', detail: 'Only vendors (or admins) manage bank accounts' });
  if (own.vendorId === null) return fail({ type: 'forbidden', detail: 'Create your vendor profile before adding a bank account' });
  return ok(own.vendorId);
}

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp';

export const IMAGE_EXTENSIONS: Record<ImageType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) =>
  bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);

/** The image type from the file's own first bytes (its name and declared type are not trusted). */
export function detectImageType(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  // RIFF <size> WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return null;
}

/** At most this many images per product: a listing needs a few, and each costs storage and page weight. */
export const MAX_IMAGES_PER_PRODUCT = 10;

/**
 * At most this many pixels (width × height), as the image's header declares them. The API never decodes
 * an image, but storefronts and CDNs do: a small file declaring 100000×100000 pixels is a decompression
 * bomb for them.
 */
export const MAX_IMAGE_PIXELS = 50_000_000;

/** What the image's own header says, read by the shell without decoding the pixels. */
export interface ImageHeader {
  width: number;
  height: number;
  /** The format the header parser recognised: "jpg", "png", "webp", … */
  type: string | undefined;
}

/** May one more image be added to a product that has `existing` already? */
export function decideImageAddition(existing: number): Result<void> {
  if (existing >= MAX_IMAGES_PER_PRODUCT) {
    return fail({ type: 'image_limit_reached', detail: `A product has at most ${MAX_IMAGES_PER_PRODUCT} images; delete one first` });
  }
  return ok(undefined);
}

/**
 * What to do with an upload: an empty file is a validation problem, bytes that are not a jpeg, png or
 * webp are an unsupported media type (the shell answers 415); a file of those types whose header gives
 * no dimensions (or those of another format), or more than MAX_IMAGE_PIXELS, is a validation problem at
 * `file` (400): the type is one we take, this file of it is not. Anything else is stored.
 */
export type ImageVerdict =
  | { kind: 'empty' }
  | { kind: 'unsupported' }
  | { kind: 'unreadable' }
  | { kind: 'too_many_pixels'; width: number; height: number }
  | { kind: 'accepted'; contentType: ImageType; extension: string; width: number; height: number };

export function judgeImage(bytes: Uint8Array, header: ImageHeader | null): ImageVerdict {
  if (bytes.length === 0) return { kind: 'empty' };
  const type = detectImageType(bytes);
  if (type === null) return { kind: 'unsupported' };
  const extension = IMAGE_EXTENSIONS[type];
  if (header === null || header.type !== extension || !(header.width >= 1 && header.height >= 1)) return { kind: 'unreadable' };
  if (header.width * header.height > MAX_IMAGE_PIXELS) return { kind: 'too_many_pixels', width: header.width, height: header.height };
  return { kind: 'accepted', contentType: type, extension, width: header.width, height: header.height };
}

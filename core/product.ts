import { fail, ok, type FieldProblem, type Result } from './errors.js';
import { MAX_UNIT_PRICE } from './money.js';
import { authorizeFields, authorizeRead, authorizeWrite, type Actor, type OwnedObject } from './policy.js';

/**
 * Product rules: what a valid product is, who sees it and who may write which of its fields. Pure; the
 * shell loads the product with its vendor and the referenced rows, and asks here.
 */

/** The largest stock the `integer` column holds. */
export const MAX_STOCK = 2_147_483_647;
export const MAX_NAME_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 5000;

/** Fields only an admin may write on a product. */
export const PRODUCT_ADMIN_ONLY_FIELDS = ['vendor_id'] as const;

/** The flags that decide whether the public sees a product (shell/repos/products.ts has their SQL twin). */
export interface VisibilityFlags {
  is_active: boolean;
  deleted_at: Date | null;
  vendor_is_active: boolean;
  /** The vendor's user account: a deactivated user's store is hidden like a deactivated vendor's. */
  vendor_user_is_active: boolean;
}

/** A stored product as far as visibility and ownership are concerned. */
export interface ProductAccess extends VisibilityFlags {
  /** The user owning the product's vendor profile. */
  vendor_user_id: string;
}

export interface ProductFields {
  name?: string | undefined;
  description?: string | undefined;
  unit_price?: number | undefined;
  stock?: number | undefined;
}

/**
 * Public: active, not deleted, its vendor active and the vendor's user active. This is what the catalog
 * (and its cache) shows and what carts, checkouts and orders may sell.
 */
export function isPubliclyVisible(product: VisibilityFlags): boolean {
  return product.is_active && product.deleted_at === null && product.vendor_is_active && product.vendor_user_is_active;
}

function ownership(product: ProductAccess): OwnedObject {
  return { ownerUserId: product.vendor_user_id, visibleToOthers: isPubliclyVisible(product) };
}

/**
 * May this caller see the product by id? The public sees public products; the owner vendor and admins
 * also see inactive ones (or ones of an inactive vendor or vendor user). A deleted product is gone for everyone,
 * admins included: past orders keep their own copy of its lines.
 */
export function authorizeProductRead(actor: Actor | null, product: ProductAccess): Result<void> {
  if (product.deleted_at !== null) return fail({ type: 'not_found' });
  return authorizeRead(actor, ownership(product));
}

/** The write rules on values: integer minor-unit price from 1 to MAX_UNIT_PRICE, integer stock ≥ 0, a name of 1–200 characters. */
export function validateProductFields(fields: ProductFields): Result<void> {
  const problems: FieldProblem[] = [];
  if (fields.name !== undefined && (fields.name.trim().length === 0 || fields.name.length > MAX_NAME_LENGTH)) {
    problems.push({ path: 'name', message: `Must be 1-${MAX_NAME_LENGTH} characters` });
  }
  if (fields.description !== undefined && fields.description.length > MAX_DESCRIPTION_LENGTH) {
    problems.push({ path: 'description', message: `Must be at most ${MAX_DESCRIPTION_LENGTH} characters` });
  }
  if (fields.unit_price !== undefined && !(Number.isSafeInteger(fields.unit_price) && fields.unit_price > 0 && fields.unit_price <= MAX_UNIT_PRICE)) {
    problems.push({ path: 'unit_price', message: `Must be an integer number of minor units from 1 to ${MAX_UNIT_PRICE}` });
  }
  if (fields.stock !== undefined && !(Number.isInteger(fields.stock) && fields.stock >= 0 && fields.stock <= MAX_STOCK)) {
    problems.push({ path: 'stock', message: `Must be an integer from 0 to ${MAX_STOCK}` });
  }
  return problems.length ? fail({ type: 'validation_failed', errors: problems }) : ok(undefined);
}

export interface ProductCreation {
  fields: ProductFields & { name: string; unit_price: number; stock: number };
  /** vendor_id as sent in the body (admins only). */
  requestedVendorId: string | undefined;
  /** The caller's own vendor profile id, when the caller is a vendor who has one. */
  callerVendorId: string | null;
  /** Whether the requested vendor exists (only asked when an admin sent vendor_id). */
  requestedVendorExists: boolean;
  categoryExists: boolean;
}

/**
 * Who may create a product, and for which vendor: a vendor with a profile creates for themselves and
 * may not name a vendor; an admin must name an existing vendor. Customers may not create products.
 */
export function decideProductCreation(actor: Actor, command: ProductCreation): Result<{ vendor_id: string }> {
  if (actor.role === 'customer') return fail({ type: 'forbidden', detail: 'Only vendors and admins may create products' });
  const fields = authorizeFields(actor, command.requestedVendorId === undefined ? [] : ['vendor_id'], PRODUCT_ADMIN_ONLY_FIELDS);
  if (!fields.ok) return fields;

  let vendorId: string;
  if (actor.role === 'admin') {
    if (command.requestedVendorId === undefined) {
      return fail({ type: 'validation_failed', detail: 'An admin must say which vendor the product belongs to', errors: [{ path: 'vendor_id', message: 'Required for admins' }] });
    }
    if (!command.requestedVendorExists) {
      return fail({ type: 'validation_failed', detail: 'No such vendor', errors: [{ path: 'vendor_id', message: 'No vendor with this id' }] });
    }
    vendorId = command.requestedVendorId;
  } else {
    if (command.callerVendorId === null) return fail({ type: 'forbidden', detail: 'Create your vendor profile before adding products' });
    vendorId = command.callerVendorId;
  }

  const valid = validateProductFields(command.fields);
  if (!valid.ok) return valid;
  if (!command.categoryExists) {
    return fail({ type: 'validation_failed', detail: 'No such category', errors: [{ path: 'category_id', message: 'No category with this id' }] });
  }
  return ok({ vendor_id: vendorId });
}

export interface ProductUpdate {
  fields: ProductFields;
  /** The names of the fields the caller sent. */
  sent: readonly string[];
  /** When category_id was sent: whether that category exists. */
  categoryExists: boolean;
  /** When vendor_id was sent: whether that vendor exists. */
  vendorExists: boolean;
}

/**
 * Who may change a product: the owner vendor or an admin. Another vendor gets forbidden when the
 * product is public and not_found when it is not (ids cannot be probed); a deleted product is not_found.
 * vendor_id is admin-only: anyone else sending it is refused as a whole.
 */
export function decideProductUpdate(actor: Actor, product: ProductAccess, command: ProductUpdate): Result<void> {
  const write = authorizeProductWrite(actor, product);
  if (!write.ok) return write;
  const fields = authorizeFields(actor, command.sent, PRODUCT_ADMIN_ONLY_FIELDS);
  if (!fields.ok) return fields;
  const valid = validateProductFields(command.fields);
  if (!valid.ok) return valid;
  const problems: FieldProblem[] = [];
  if (command.sent.includes('category_id') && !command.categoryExists) problems.push({ path: 'category_id', message: 'No category with this id' });
  if (command.sent.includes('vendor_id') && !command.vendorExists) problems.push({ path: 'vendor_id', message: 'No vendor with this id' });
  return problems.length ? fail({ type: 'validation_failed', errors: problems }) : ok(undefined);
}

/** May this caller change (or delete) the product at all? */
export function authorizeProductWrite(actor: Actor, product: ProductAccess): Result<void> {
  if (product.deleted_at !== null) return fail({ type: 'not_found' });
  if (actor.role === 'customer') return fail({ type: 'forbidden', detail: 'Only vendors and admins may change products' });
  return authorizeWrite(actor, ownership(product));
}

export const PRODUCT_ORDERINGS = ['created_at', '-created_at', 'price', '-price', 'name'] as const;
export type ProductOrdering = (typeof PRODUCT_ORDERINGS)[number];

export interface ProductListFilters {
  min_price?: number | undefined;
  max_price?: number | undefined;
}

/** A price range whose bounds cross matches nothing by mistake, never by intent: refuse it. */
export function validateProductListFilters(filters: ProductListFilters): Result<void> {
  if (filters.min_price !== undefined && filters.max_price !== undefined && filters.min_price > filters.max_price) {
    return fail({
      type: 'validation_failed',
      detail: 'min_price must not be greater than max_price',
      errors: [{ path: 'query.min_price', message: 'Must not be greater than max_price' }],
    });
  }
  return ok(undefined);
}

/** Escapes LIKE wildcards so a search for "50%" or "a_b" matches those characters literally. */
export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

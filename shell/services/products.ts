import { randomUUID } from 'node:crypto';
import {
  authorizeProductRead,
  authorizeProductWrite,
  decideProductCreation,
  decideProductUpdate,
  isPubliclyVisible,
  validateProductListFilters,
  type ProductOrdering,
} from '../../core/product.js';
import type { Actor } from '../../core/policy.js';
import type { DB, Trx } from '../../db/database.js';
import { invalidateCatalog, readThroughCatalog, type CatalogRead } from '../catalog-cache.js';
import type { AppContext } from '../context.js';
import { keysetPage, toPage, type Page } from '../pagination.js';
import { failure, unwrap } from '../../core/errors.js';
import { findCategoryById } from '../repos/categories.js';
import { imagesForProducts } from '../repos/product-images.js';
import {
  findProductWithVendor,
  findProductWithVendorForUpdate,
  insertProduct,
  productOrderingKeys,
  publicProductsQuery,
  updateProduct as updateProductRow,
  type ProductRow,
  type PublicProductFilters,
} from '../repos/products.js';
import { findVendorById, findVendorByUserId } from '../repos/vendors.js';
import { productView, type Product } from '../shapes/products.js';
import { inSerializableTx } from '../tx.js';

/** Product use cases: create, change, soft-delete, read one, list the public catalog. */

const categoryExists = async (db: Trx, id: string) => (await findCategoryById(db, id)) !== undefined;
const vendorExists = async (db: Trx, id: string) => (await findVendorById(db, id)) !== undefined;

export interface ProductInput {
  name: string;
  description?: string | undefined;
  unit_price: number;
  stock: number;
  category_id: string;
  is_active?: boolean | undefined;
  vendor_id?: string | undefined;
}

export type ProductPatch = Partial<ProductInput>;

export interface ProductListQuery extends PublicProductFilters {
  ordering: ProductOrdering;
  limit: number;
  cursor?: string | undefined;
}

/** Product views, image URLs built now from their stored keys on `baseUrl` (see shell/http/base-url.ts). */
async function viewsOf(ctx: AppContext, db: DB | Trx, rows: ProductRow[], baseUrl: string): Promise<Product[]> {
  const images = await imagesForProducts(db, rows.map((r) => r.id));
  const urls = (id: string) => (images.get(id) ?? []).map((image) => ({ id: image.id, url: ctx.media.urlOf(image.storage_key, baseUrl) }));
  return rows.map((row) => productView(row, urls(row.id), ctx.config.CURRENCY));
}

const isForeignKeyViolation = (error: unknown, column: string) => {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23503' && typeof e.constraint === 'string' && e.constraint.includes(column);
};

/** A category or vendor deleted between our check and our write surfaces as a foreign-key violation. */
function referenceProblem(error: unknown): never {
  for (const column of ['category_id', 'vendor_id']) {
    if (isForeignKeyViolation(error, column)) {
      throw failure({ type: 'validation_failed', detail: `No such ${column.replace('_id', '')}`, errors: [{ path: column, message: 'No such object' }] });
    }
  }
  throw error;
}

export async function createProduct(ctx: AppContext, actor: Actor, input: ProductInput, baseUrl: string): Promise<Product> {
  const id = randomUUID();
  const now = ctx.now();
  const row = await inSerializableTx(ctx.db, async (trx) => {
    const callerVendorId = actor.role === 'vendor' ? ((await findVendorByUserId(trx, actor.id))?.id ?? null) : null;
    const requestedVendorExists = actor.role === 'admin' && input.vendor_id !== undefined ? await vendorExists(trx, input.vendor_id) : false;
    const decision = unwrap(
      decideProductCreation(actor, {
        fields: input,
        requestedVendorId: input.vendor_id,
        callerVendorId,
        requestedVendorExists,
        categoryExists: await categoryExists(trx, input.category_id),
      }),
    );
    return insertProduct(trx, {
      id,
      vendor_id: decision.vendor_id,
      category_id: input.category_id,
      name: input.name,
      description: input.description ?? '',
      unit_price: input.unit_price,
      stock: input.stock,
      is_active: input.is_active ?? true,
      created_at: now,
      updated_at: now,
    });
  }).catch(referenceProblem);
  await invalidateCatalog(ctx.cache);
  return (await viewsOf(ctx, ctx.db, [row], baseUrl))[0]!;
}

export async function updateProduct(ctx: AppContext, actor: Actor, id: string, patch: ProductPatch, baseUrl: string): Promise<Product> {
  const now = ctx.now();
  const sent = Object.keys(patch).filter((k) => patch[k as keyof ProductPatch] !== undefined);
  const row = await inSerializableTx(ctx.db, async (trx) => {
    const product = await findProductWithVendorForUpdate(trx, id);
    if (!product) throw failure({ type: 'not_found', detail: 'No such product' });
    unwrap(
      decideProductUpdate(actor, product, {
        fields: patch,
        sent,
        categoryExists: patch.category_id !== undefined ? await categoryExists(trx, patch.category_id) : true,
        vendorExists: patch.vendor_id !== undefined ? await vendorExists(trx, patch.vendor_id) : true,
      }),
    );
    if (sent.length === 0) return product;
    const { name, description, unit_price, stock, category_id, is_active, vendor_id } = patch;
    return updateProductRow(trx, id, { name, description, unit_price, stock, category_id, is_active, vendor_id, updated_at: now });
  }).catch(referenceProblem);
  if (sent.length > 0) await invalidateCatalog(ctx.cache);
  return (await viewsOf(ctx, ctx.db, [row], baseUrl))[0]!;
}

/** Soft delete: the row stays for the order lines that point at it, but no reader sees it again. */
export async function deleteProduct(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  const now = ctx.now();
  await inSerializableTx(ctx.db, async (trx) => {
    const product = await findProductWithVendorForUpdate(trx, id);
    if (!product) throw failure({ type: 'not_found', detail: 'No such product' });
    unwrap(authorizeProductWrite(actor, product));
    await updateProductRow(trx, id, { deleted_at: now, updated_at: now });
  });
  await invalidateCatalog(ctx.cache);
}

/**
 * One product as this caller may see it; only the public view is cached. Its image URLs are built on
 * `baseUrl`, so the base is part of the cache key: one host's URLs are never served to another.
 */
export async function getProduct(ctx: AppContext, actor: Actor | null, id: string, baseUrl: string, alias: string | null = null): Promise<CatalogRead<Product>> {
  return readThroughCatalog(ctx.cache, ctx.log, 'detail', { id, base: baseUrl }, async () => {
    const product = await findProductWithVendor(ctx.db, id);
    if (!product) throw failure({ type: 'not_found', detail: 'No such product' });
    unwrap(authorizeProductRead(actor, product));
    const [view] = await viewsOf(ctx, ctx.db, [product], baseUrl);
    return { body: view!, cacheable: isPubliclyVisible(product) };
  }, actor === null ? alias : null);
}

/**
 * The public catalog, one keyset page; the same for every caller, so always cacheable. The key is the
 * parsed, normalised query and the list's URL, which the route builds from that same query on the base
 * URL (`canonicalListUrl`): parameters the schema does not know never reach the key, and the page links
 * and image URLs of one base are never served to another.
 */
export async function listProducts(ctx: AppContext, base: { listUrl: string; baseUrl: string }, query: ProductListQuery, alias: string | null = null): Promise<CatalogRead<Page<Product>>> {
  unwrap(validateProductListFilters(query));
  const { listUrl, baseUrl } = base;
  return readThroughCatalog(ctx.cache, ctx.log, 'list', { ...query, url: listUrl, base: baseUrl }, async () => {
    const keys = productOrderingKeys[query.ordering];
    const page = await keysetPage(ctx.paginator, publicProductsQuery(ctx.db, query), {
      ...keys,
      ordering: query.ordering,
      limit: query.limit,
      cursor: query.cursor,
    });
    const views = await viewsOf(ctx, ctx.db, page.rows, baseUrl);
    const byId = new Map(views.map((v) => [v.id, v]));
    return { body: toPage(listUrl, page, (row) => byId.get(row.id)!), cacheable: true };
  }, alias);
}

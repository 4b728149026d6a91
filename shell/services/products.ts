import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
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
import { keysetPage, toPage, type Page } from '../http/pagination.js';
import { HttpProblem, unwrap } from '../http/problem.js';
import { findCategoryById } from '../repos/categories.js';
import { imagesForProducts, type ImageView as ProductImage } from '../repos/product-images.js';
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
import { inSerializableTx } from '../tx.js';

/** Product use cases: create, change, soft-delete, read one, list the public catalog. */

const categoryExists = async (db: Trx, id: string) => (await findCategoryById(db, id)) !== undefined;
const vendorExists = async (db: Trx, id: string) => (await findVendorById(db, id)) !== undefined;

export interface ProductView {
  id: string;
  vendor_id: string;
  category_id: string;
  name: string;
  description: string;
  unit_price: number;
  currency: string;
  stock: number;
  is_active: boolean;
  images: ProductImage[];
  created_at: string;
  updated_at: string;
}

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

function productView(row: ProductRow, images: ProductImage[], currency: string): ProductView {
  return {
    id: row.id,
    vendor_id: row.vendor_id,
    category_id: row.category_id,
    name: row.name,
    description: row.description,
    unit_price: row.unit_price,
    currency,
    stock: row.stock,
    is_active: row.is_active,
    images,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

async function viewsOf(db: DB | Trx, rows: ProductRow[], currency: string): Promise<ProductView[]> {
  const images = await imagesForProducts(db, rows.map((r) => r.id));
  return rows.map((row) => productView(row, images.get(row.id) ?? [], currency));
}

const isForeignKeyViolation = (error: unknown, column: string) => {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23503' && typeof e.constraint === 'string' && e.constraint.includes(column);
};

/** A category or vendor deleted between our check and our write surfaces as a foreign-key violation. */
function referenceProblem(error: unknown): never {
  for (const column of ['category_id', 'vendor_id']) {
    if (isForeignKeyViolation(error, column)) {
      throw new HttpProblem('validation_failed', `No such ${column.replace('_id', '')}`, { errors: [{ path: column, message: 'No such object' }] });
    }
  }
  throw error;
}

export async function createProduct(ctx: AppContext, actor: Actor, input: ProductInput): Promise<ProductView> {
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
  return (await viewsOf(ctx.db, [row], ctx.config.CURRENCY))[0]!;
}

export async function updateProduct(ctx: AppContext, actor: Actor, id: string, patch: ProductPatch): Promise<ProductView> {
  const now = ctx.now();
  const sent = Object.keys(patch).filter((k) => patch[k as keyof ProductPatch] !== undefined);
  const row = await inSerializableTx(ctx.db, async (trx) => {
    const product = await findProductWithVendorForUpdate(trx, id);
    if (!product) throw new HttpProblem('not_found', 'No such product');
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
  return (await viewsOf(ctx.db, [row], ctx.config.CURRENCY))[0]!;
}

/** Soft delete: the row stays for the order lines that point at it, but no reader sees it again. */
export async function deleteProduct(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  const now = ctx.now();
  await inSerializableTx(ctx.db, async (trx) => {
    const product = await findProductWithVendorForUpdate(trx, id);
    if (!product) throw new HttpProblem('not_found', 'No such product');
    unwrap(authorizeProductWrite(actor, product));
    await updateProductRow(trx, id, { deleted_at: now, updated_at: now });
  });
  await invalidateCatalog(ctx.cache);
}

/** One product as this caller may see it; only the public view is cached. */
export async function getProduct(ctx: AppContext, log: FastifyRequest['log'], actor: Actor | null, id: string): Promise<CatalogRead<ProductView>> {
  return readThroughCatalog(ctx.cache, log, 'detail', { id }, async () => {
    const product = await findProductWithVendor(ctx.db, id);
    if (!product) throw new HttpProblem('not_found', 'No such product');
    unwrap(authorizeProductRead(actor, product));
    const [view] = await viewsOf(ctx.db, [product], ctx.config.CURRENCY);
    return { body: view!, cacheable: isPubliclyVisible(product) };
  });
}

/** The public catalog, one keyset page; the same for every caller, so always cacheable. */
export async function listProducts(ctx: AppContext, request: FastifyRequest, query: ProductListQuery): Promise<CatalogRead<Page<ProductView>>> {
  unwrap(validateProductListFilters(query));
  // The page links are absolute URLs echoing the path and query asked: without PUBLIC_URL they also
  // depend on the host.
  const origin = ctx.paginator.publicUrl ?? `${request.protocol}://${request.host}`;
  return readThroughCatalog(ctx.cache, request.log, 'list', { ...query, origin, url: request.url }, async () => {
    const keys = productOrderingKeys[query.ordering];
    const page = await keysetPage(ctx.paginator, publicProductsQuery(ctx.db, query), {
      ...keys,
      ordering: query.ordering,
      limit: query.limit,
      cursor: query.cursor,
    });
    const views = await viewsOf(ctx.db, page.rows, ctx.config.CURRENCY);
    const byId = new Map(views.map((v) => [v.id, v]));
    return { body: toPage(ctx.paginator, request, page, (row) => byId.get(row.id)!), cacheable: true };
  });
}

import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import { escapeLikePattern, type ProductOrdering } from '../../core/product.js';
import type { Database, DB, ProductsTable, Trx } from '../../db/database.js';

/** Product queries. Plain functions over a db or a transaction. */

export type ProductRow = Selectable<ProductsTable>;

/** A product with the facts about its vendor (and the vendor's user) that visibility and ownership need. */
export type ProductWithVendor = ProductRow & { vendor_is_active: boolean; vendor_user_is_active: boolean; vendor_user_id: string };

const productColumns = [
  'p.id',
  'p.vendor_id',
  'p.category_id',
  'p.name',
  'p.description',
  'p.unit_price',
  'p.stock',
  'p.is_active',
  'p.deleted_at',
  'p.created_at',
  'p.updated_at',
] as const;

export async function findProductWithVendor(db: DB | Trx, id: string): Promise<ProductWithVendor | undefined> {
  return db
    .selectFrom('products as p')
    .innerJoin('vendors as v', 'v.id', 'p.vendor_id')
    .innerJoin('users as vu', 'vu.id', 'v.user_id')
    .select([...productColumns, 'v.is_active as vendor_is_active', 'vu.is_active as vendor_user_is_active', 'v.user_id as vendor_user_id'])
    .where('p.id', '=', id)
    .executeTakeFirst();
}

/** Locks the row for the rest of the transaction, so two writers to one product take turns. */
export async function findProductWithVendorForUpdate(trx: Trx, id: string): Promise<ProductWithVendor | undefined> {
  return trx
    .selectFrom('products as p')
    .innerJoin('vendors as v', 'v.id', 'p.vendor_id')
    .innerJoin('users as vu', 'vu.id', 'v.user_id')
    .select([...productColumns, 'v.is_active as vendor_is_active', 'vu.is_active as vendor_user_is_active', 'v.user_id as vendor_user_id'])
    .where('p.id', '=', id)
    .forUpdate('p')
    .executeTakeFirst();
}

export async function insertProduct(trx: Trx, row: Omit<ProductRow, 'deleted_at'>): Promise<ProductRow> {
  return trx.insertInto('products').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateProduct(
  trx: Trx,
  id: string,
  changes: Partial<Pick<ProductRow, 'name' | 'description' | 'unit_price' | 'stock' | 'category_id' | 'vendor_id' | 'is_active' | 'deleted_at'>> & { updated_at: Date },
): Promise<ProductRow> {
  return trx.updateTable('products').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export interface PublicProductFilters {
  /** A category id (UUID) or slug. */
  category?: string | undefined;
  vendor?: string | undefined;
  q?: string | undefined;
  min_price?: number | undefined;
  max_price?: number | undefined;
  in_stock?: boolean | undefined;
}

/** Sort columns per ordering; the id breaks ties so every row has a unique position. */
export const productOrderingKeys: Record<ProductOrdering, { columns: string[]; direction: 'asc' | 'desc'; keyOf: (row: ProductRow) => (string | number)[] }> = {
  '-created_at': { columns: ['p.created_at', 'p.id'], direction: 'desc', keyOf: (r) => [r.created_at.toISOString(), r.id] },
  created_at: { columns: ['p.created_at', 'p.id'], direction: 'asc', keyOf: (r) => [r.created_at.toISOString(), r.id] },
  price: { columns: ['p.unit_price', 'p.id'], direction: 'asc', keyOf: (r) => [r.unit_price, r.id] },
  '-price': { columns: ['p.unit_price', 'p.id'], direction: 'desc', keyOf: (r) => [r.unit_price, r.id] },
  name: { columns: ['p.name', 'p.id'], direction: 'asc', keyOf: (r) => [r.name, r.id] },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The SQL twin of core's `isPubliclyVisible` for `products as p`: active, not deleted, its vendor active
 * and the vendor's user active. Literal predicates (not bound parameters), so even a generic plan matches
 * the partial indexes (is_active AND deleted_at IS NULL). tests/api/product-visibility.test.ts proves the
 * two agree on every combination of the flags.
 */
export const publiclyVisible = (eb: ExpressionBuilder<Database & { p: Database['products'] }, 'p'>) =>
  eb.and([
    sql<boolean>`p.is_active`,
    eb('p.deleted_at', 'is', null),
    eb.exists(
      eb
        .selectFrom('vendors as v')
        .innerJoin('users as vu', 'vu.id', 'v.user_id')
        .select(sql.lit(1).as('one'))
        .whereRef('v.id', '=', 'p.vendor_id')
        .where(sql<boolean>`v.is_active`)
        .where(sql<boolean>`vu.is_active`),
    ),
  ]);

/**
 * The public catalog (active, not deleted, vendor and vendor user active) with the list filters applied, unordered and
 * unlimited: keysetPage adds both. The predicates repeat the partial indexes' WHERE clause
 * (is_active AND deleted_at IS NULL) so the planner can use them.
 */
export function publicProductsQuery(db: DB, filters: PublicProductFilters) {
  let q = db
    .selectFrom('products as p')
    .select(productColumns)
    .where(publiclyVisible);
  if (filters.category !== undefined) {
    const category = filters.category;
    q = UUID.test(category)
      ? q.where('p.category_id', '=', category)
      : q.where('p.category_id', '=', (eb) => eb.selectFrom('categories').select('id').where('slug', '=', category));
  }
  if (filters.vendor !== undefined) q = q.where('p.vendor_id', '=', filters.vendor);
  if (filters.min_price !== undefined) q = q.where('p.unit_price', '>=', filters.min_price);
  if (filters.max_price !== undefined) q = q.where('p.unit_price', '<=', filters.max_price);
  if (filters.in_stock) q = q.where('p.stock', '>', 0);
  if (filters.q !== undefined) {
    // Same expression as the trigram index products_search_trgm_idx, so the index applies.
    q = q.where(sql<boolean>`lower(p.name || ' ' || p.description) LIKE '%' || lower(${escapeLikePattern(filters.q)}) || '%'`);
  }
  return q;
}

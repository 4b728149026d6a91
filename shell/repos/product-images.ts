import type { Insertable, Selectable } from 'kysely';
import type { DB, ProductImagesTable, Trx } from '../../db/database.js';

type Conn = DB | Trx;

export type ProductImageRow = Selectable<ProductImagesTable>;

/** An image as stored: the media store's key, from which its URL is built at read time. */
export interface StoredImage {
  id: string;
  storage_key: string;
}

/** The images of many products at once, oldest first, for the product shape `images: [{id, url}]`. */
export async function imagesForProducts(db: Conn, productIds: readonly string[]): Promise<Map<string, StoredImage[]>> {
  const byProduct = new Map<string, StoredImage[]>(productIds.map((id) => [id, []]));
  if (productIds.length === 0) return byProduct;
  const rows = await db
    .selectFrom('product_images')
    .select(['id', 'product_id', 'storage_key'])
    .where('product_id', 'in', [...new Set(productIds)])
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
  for (const row of rows) byProduct.get(row.product_id)?.push({ id: row.id, storage_key: row.storage_key });
  return byProduct;
}

export async function countProductImages(db: Conn, productId: string): Promise<number> {
  const row = await db.selectFrom('product_images').select((eb) => eb.fn.countAll<string>().as('n')).where('product_id', '=', productId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A product with what image writes need to authorize: its owner and whether the public sees it. */
export const findProductForImages = (db: Conn, productId: string) =>
  db
    .selectFrom('products')
    .innerJoin('vendors', 'vendors.id', 'products.vendor_id')
    .innerJoin('users', 'users.id', 'vendors.user_id')
    .select([
      'products.id',
      'products.is_active',
      'products.deleted_at',
      'vendors.user_id as owner_user_id',
      'vendors.is_active as vendor_is_active',
      'users.is_active as vendor_user_is_active',
    ])
    .where('products.id', '=', productId)
    .executeTakeFirst();

export const findProductImage = (db: Conn, productId: string, imageId: string): Promise<ProductImageRow | undefined> =>
  db.selectFrom('product_images').selectAll().where('id', '=', imageId).where('product_id', '=', productId).executeTakeFirst();

export const insertProductImage = (db: Conn, row: Insertable<ProductImagesTable>): Promise<ProductImageRow> =>
  db.insertInto('product_images').values(row).returningAll().executeTakeFirstOrThrow();

export async function deleteProductImage(db: Conn, imageId: string): Promise<void> {
  await db.deleteFrom('product_images').where('id', '=', imageId).execute();
}

import type { Insertable, Updateable } from 'kysely';
import type { CategoriesTable, CategoryRow, DB, Trx } from '../../db/database.js';

type Conn = DB | Trx;

export const findCategoryById = (db: Conn, id: string): Promise<CategoryRow | undefined> =>
  db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();

export const findCategoryBySlug = (db: Conn, slug: string): Promise<CategoryRow | undefined> =>
  db.selectFrom('categories').selectAll().where('slug', '=', slug).executeTakeFirst();

export const insertCategory = (db: Conn, row: Insertable<CategoriesTable>): Promise<CategoryRow> =>
  db.insertInto('categories').values(row).returningAll().executeTakeFirstOrThrow();

export const updateCategory = (db: Conn, id: string, changes: Updateable<CategoriesTable>): Promise<CategoryRow> =>
  db.updateTable('categories').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();

export async function deleteCategory(db: Conn, id: string): Promise<void> {
  await db.deleteFrom('categories').where('id', '=', id).execute();
}

/** Whether any product row, soft-deleted ones included, still points at the category. */
export async function categoryHasProducts(db: Conn, id: string): Promise<boolean> {
  const row = await db.selectFrom('products').select('id').where('category_id', '=', id).limit(1).executeTakeFirst();
  return row !== undefined;
}

export const categoriesListQuery = (db: Conn) => db.selectFrom('categories').selectAll();

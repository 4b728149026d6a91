import { randomUUID } from 'node:crypto';
import { categorySlug, updatedCategorySlug } from '../../core/catalog.js';
import type { AppContext } from '../context.js';
import { mapUniqueViolation } from '../db-errors.js';
import { keysetPage, oldestFirst, toPage, type Page } from '../pagination.js';
import { failure, unwrap } from '../../core/errors.js';
import {
  categoriesListQuery,
  categoryHasProducts,
  deleteCategory,
  findCategoryById,
  findCategoryBySlug,
  insertCategory,
  updateCategory,
} from '../repos/categories.js';
import { categoryView, type Category } from '../shapes/categories.js';
import { inSerializableTx } from '../tx.js';

/**
 * Categories: public reads, admin writes (the route requires the role). Slugs are unique; a category
 * that any product row points at, soft-deleted products included, cannot be deleted (the foreign key
 * is RESTRICT and past orders' products keep their category).
 */

export interface NewCategoryInput {
  name: string;
  slug?: string | undefined;
  description?: string | undefined;
}

export type CategoryChanges = Partial<NewCategoryInput>;

const slugTaken = (slug: string) => failure({ type: 'slug_taken', detail: `The slug "${slug}" is already used by another category` });
const notFound = () => failure({ type: 'not_found', detail: 'No such category' });
const inUse = () => failure({ type: 'category_in_use', detail: 'Products (including deleted ones kept for order history) still belong to this category' });

export async function createCategory(ctx: AppContext, input: NewCategoryInput): Promise<Category> {
  const slug = unwrap(categorySlug(input));
  const id = randomUUID();
  const now = ctx.now();
  return mapUniqueViolation(() => slugTaken(slug), async () => {
    const created = await inSerializableTx(ctx.db, async (trx) => {
      if (await findCategoryBySlug(trx, slug)) throw slugTaken(slug);
      return insertCategory(trx, { id, name: input.name, slug, description: input.description ?? '', created_at: now, updated_at: now });
    });
    await ctx.cache.bump('products');
    return categoryView(created);
  });
}

export async function getCategory(ctx: AppContext, id: string): Promise<Category> {
  const category = await findCategoryById(ctx.db, id);
  if (!category) throw notFound();
  return categoryView(category);
}

/** Oldest first. */
export async function listCategories(ctx: AppContext, listUrl: string, query: { limit: number; cursor?: string | undefined }): Promise<Page<Category>> {
  const page = await keysetPage(ctx.paginator, categoriesListQuery(ctx.db), oldestFirst('created_at', query));
  return toPage(listUrl, page, categoryView);
}

export async function changeCategory(ctx: AppContext, id: string, changes: CategoryChanges): Promise<Category> {
  const now = ctx.now();
  let slug: string | null = null;
  return mapUniqueViolation(() => slugTaken(slug ?? ''), async () => {
    const updated = await inSerializableTx(ctx.db, async (trx) => {
      const category = await findCategoryById(trx, id);
      if (!category) throw notFound();
      slug = unwrap(updatedCategorySlug(category, changes));
      if (slug !== category.slug) {
        const holder = await findCategoryBySlug(trx, slug);
        if (holder && holder.id !== id) throw slugTaken(slug);
      }
      return updateCategory(trx, id, {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        slug,
        updated_at: now,
      });
    });
    await ctx.cache.bump('products');
    return categoryView(updated);
  });
}

export async function removeCategory(ctx: AppContext, id: string): Promise<void> {
  try {
    await inSerializableTx(ctx.db, async (trx) => {
      const category = await findCategoryById(trx, id);
      if (!category) throw notFound();
      if (await categoryHasProducts(trx, id)) throw inUse();
      await deleteCategory(trx, id);
    });
  } catch (error) {
    // A product created concurrently with the delete: the RESTRICT foreign key refuses it.
    if ((error as { code?: unknown } | null)?.code === '23503') throw inUse();
    throw error;
  }
  await ctx.cache.bump('products');
}

import { randomUUID } from 'node:crypto';
import type { TestContext, TestUser } from '../support/harness.js';

/**
 * Catalog rows for the product tests, inserted directly: the vendor and category routes are written
 * elsewhere, and list tests need control over created_at.
 */

export interface VendorFixture {
  user: TestUser;
  vendorId: string;
}

export async function vendorWithProfile(ctx: TestContext, fields: { is_active?: boolean } = {}): Promise<VendorFixture> {
  const user = await ctx.user('vendor');
  const vendorId = randomUUID();
  const now = new Date();
  await ctx.db
    .insertInto('vendors')
    .values({ id: vendorId, user_id: user.id, business_name: `Shop ${vendorId.slice(0, 6)}`, is_active: fields.is_active ?? true, created_at: now, updated_at: now })
    .execute();
  return { user, vendorId };
}

export async function category(ctx: TestContext, slug = `cat-${randomUUID().slice(0, 8)}`): Promise<{ id: string; slug: string }> {
  const id = randomUUID();
  const now = new Date();
  await ctx.db.insertInto('categories').values({ id, name: slug, slug, created_at: now, updated_at: now }).execute();
  return { id, slug };
}

export interface ProductFixtureFields {
  name?: string;
  description?: string;
  unit_price?: number;
  stock?: number;
  is_active?: boolean;
  deleted_at?: Date | null;
  created_at?: Date;
}

export async function insertProduct(ctx: TestContext, vendorId: string, categoryId: string, fields: ProductFixtureFields = {}): Promise<string> {
  const id = randomUUID();
  const created = fields.created_at ?? new Date();
  await ctx.db
    .insertInto('products')
    .values({
      id,
      vendor_id: vendorId,
      category_id: categoryId,
      name: fields.name ?? `Product ${id.slice(0, 8)}`,
      description: fields.description ?? '',
      unit_price: fields.unit_price ?? 1000,
      stock: fields.stock ?? 10,
      is_active: fields.is_active ?? true,
      deleted_at: fields.deleted_at ?? null,
      created_at: created,
      updated_at: created,
    })
    .execute();
  return id;
}

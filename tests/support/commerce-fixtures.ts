import { randomUUID } from 'node:crypto';
import type { DB } from '../../db/database.js';
import { createTestContext, type HarnessOptions, type TestContext, type TestUser } from './harness.js';

/**
 * Catalog rows for commerce tests, inserted directly (the catalog routes belong to another area).
 */

export interface Catalog {
  vendorUser: TestUser;
  vendorId: string;
  categoryId: string;
}

export async function createVendor(ctx: TestContext, options: { is_active?: boolean } = {}): Promise<Catalog> {
  const vendorUser = await ctx.user('vendor');
  const now = new Date();
  const vendorId = randomUUID();
  await ctx.db
    .insertInto('vendors')
    .values({ id: vendorId, user_id: vendorUser.id, business_name: `Vendor ${vendorId.slice(0, 6)}`, is_active: options.is_active ?? true, created_at: now, updated_at: now })
    .execute();
  const categoryId = randomUUID();
  await ctx.db.insertInto('categories').values({ id: categoryId, name: 'Things', slug: `things-${categoryId.slice(0, 8)}`, created_at: now, updated_at: now }).execute();
  return { vendorUser, vendorId, categoryId };
}

/** A fresh test context and one vendor's catalog to sell from: the setup of the commerce test files. */
export async function commerceContext(options: HarnessOptions = {}): Promise<{ ctx: TestContext; catalog: Catalog }> {
  const ctx = await createTestContext(options);
  return { ctx, catalog: await createVendor(ctx) };
}

export interface ProductFixture {
  id: string;
  name: string;
  unit_price: number;
  stock: number;
  vendor_id: string;
}

export async function createProduct(
  db: DB,
  catalog: Pick<Catalog, 'vendorId' | 'categoryId'>,
  fields: { name?: string; unit_price?: number; stock?: number; is_active?: boolean; deleted?: boolean } = {},
): Promise<ProductFixture> {
  const id = randomUUID();
  const now = new Date();
  const product = { id, name: fields.name ?? `Product ${id.slice(0, 6)}`, unit_price: fields.unit_price ?? 1250, stock: fields.stock ?? 10, vendor_id: catalog.vendorId };
  await db
    .insertInto('products')
    .values({ ...product, category_id: catalog.categoryId, is_active: fields.is_active ?? true, deleted_at: fields.deleted ? now : null, created_at: now, updated_at: now })
    .execute();
  return product;
}

export const ADDRESS = { line1: '1 Main Street', city: 'Springfield', postal_code: '12345', country: 'US' };

export async function stockOf(db: DB, productId: string): Promise<number> {
  return (await db.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow()).stock;
}

/** Puts the products in the customer's cart, sets the address and confirms: a checkout ready for an order. */
export async function confirmedCheckout(ctx: TestContext, customer: TestUser, lines: { product_id: string; quantity: number }[]): Promise<void> {
  for (const line of lines) {
    const res = await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: line, as: customer });
    if (res.statusCode >= 300) throw new Error(`add to cart: ${res.statusCode} ${res.body}`);
  }
  const upd = await ctx.request({ method: 'PATCH', url: '/api/v1/checkout/update/', payload: { shipping_address: ADDRESS }, as: customer });
  if (upd.statusCode !== 200) throw new Error(`checkout update: ${upd.statusCode} ${upd.body}`);
  const conf = await ctx.request({ method: 'POST', url: '/api/v1/checkout/confirm/', as: customer });
  if (conf.statusCode !== 200) throw new Error(`confirm: ${conf.statusCode} ${conf.body}`);
}

/**
 * The rows a confirmed checkout leaves (active cart, its line, checkout confirmed with the item frozen),
 * written directly: to prepare hundreds of customers quickly before a concurrency test.
 */
export async function insertConfirmedCheckout(db: DB, customerId: string, product: ProductFixture, quantity: number, ttlSeconds: number): Promise<void> {
  const now = new Date();
  const cartId = randomUUID();
  // An order made the customer's next (empty) cart: this one replaces it.
  await db.updateTable('carts').set({ status: 'closed', closed_at: now }).where('customer_id', '=', customerId).where('status', '=', 'active').execute();
  await db.insertInto('carts').values({ id: cartId, customer_id: customerId, status: 'active', created_at: now }).execute();
  await db.insertInto('cart_items').values({ id: randomUUID(), cart_id: cartId, product_id: product.id, quantity, created_at: now, updated_at: now }).execute();
  const lineTotal = product.unit_price * quantity;
  await db
    .insertInto('checkouts')
    .values({
      id: randomUUID(),
      cart_id: cartId,
      customer_id: customerId,
      status: 'confirmed',
      shipping_address: JSON.stringify(ADDRESS),
      frozen_items: JSON.stringify([{ product_id: product.id, vendor_id: product.vendor_id, name: product.name, unit_price: product.unit_price, quantity, line_total: lineTotal }]),
      subtotal: lineTotal,
      total: lineTotal,
      confirmed_at: now,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000),
      created_at: now,
      updated_at: now,
    })
    .execute();
}

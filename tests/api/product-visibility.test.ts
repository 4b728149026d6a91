import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPubliclyVisible } from '../../core/product.js';
import { productFacts } from '../../shell/repos/stock.js';
import { publiclyVisible } from '../../shell/repos/products.js';
import { createProduct, createVendor, type Catalog } from '../support/commerce-fixtures.js';
import { createTestContext, type TestContext } from '../support/harness.js';

/**
 * Product visibility is one rule: core's isPubliclyVisible, with its SQL twin (publiclyVisible) for the
 * catalog queries. On every combination of the flags (the product's is_active and deleted_at, its
 * vendor's is_active, and the is_active of the vendor's user), the database and the core answer the
 * same, and so does what the commerce flow is told (productFacts' `available`), what the public catalog
 * serves by id and in its list, and what a customer may put in a cart.
 */
interface Combo {
  is_active: boolean;
  deleted: boolean;
  vendor_is_active: boolean;
  vendor_user_is_active: boolean;
  id?: string;
  vendorId?: string;
}

const core = (c: Combo) =>
  isPubliclyVisible({ is_active: c.is_active, deleted_at: c.deleted ? new Date() : null, vendor_is_active: c.vendor_is_active, vendor_user_is_active: c.vendor_user_is_active });
const flags = ({ id: _id, vendorId: _vendorId, ...rest }: Combo) => rest;

describe('product visibility: the core predicate and its SQL twin agree', () => {
  let ctx: TestContext;
  const combos: Combo[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    const vendors = new Map<string, Catalog>();
    for (const vendor_is_active of [true, false]) {
      for (const vendor_user_is_active of [true, false]) {
        const vendor = await createVendor(ctx, { is_active: vendor_is_active });
        // Deactivated as DELETE /users/{id}/ does it: the user row's is_active.
        if (!vendor_user_is_active) await ctx.db.updateTable('users').set({ is_active: false }).where('id', '=', vendor.vendorUser.id).execute();
        vendors.set(`${vendor_is_active}/${vendor_user_is_active}`, vendor);
      }
    }
    for (const is_active of [true, false]) {
      for (const deleted of [true, false]) {
        for (const vendor_is_active of [true, false]) {
          for (const vendor_user_is_active of [true, false]) {
            const vendor = vendors.get(`${vendor_is_active}/${vendor_user_is_active}`)!;
            const product = await createProduct(ctx.db, vendor, { is_active, deleted });
            combos.push({ is_active, deleted, vendor_is_active, vendor_user_is_active, id: product.id, vendorId: vendor.vendorId });
          }
        }
      }
    }
  });
  afterAll(() => ctx.close());

  it('covers all sixteen combinations, and exactly one is public', () => {
    expect(combos).toHaveLength(16);
    expect(combos.filter(core)).toHaveLength(1);
  });

  it('selects in SQL exactly the products the core calls publicly visible', async () => {
    const ids = combos.map((c) => c.id!);
    const sqlVisible = new Set((await ctx.db.selectFrom('products as p').select('p.id').where('p.id', 'in', ids).where(publiclyVisible).execute()).map((r) => r.id));
    for (const c of combos) {
      expect({ ...flags(c), visible: sqlVisible.has(c.id!) }).toEqual({ ...flags(c), visible: core(c) });
    }
  });

  it('tells the commerce flow a product is available exactly when it is publicly visible', async () => {
    const facts = await productFacts(ctx.db, combos.map((c) => c.id!));
    for (const c of combos) {
      expect({ ...flags(c), available: facts.get(c.id!)?.available }).toEqual({ ...flags(c), available: core(c) });
    }
  });

  it('serves exactly the visible products by id to an anonymous caller', async () => {
    for (const c of combos) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${c.id}/` });
      expect({ ...flags(c), status: res.statusCode }).toEqual({ ...flags(c), status: core(c) ? 200 : 404 });
    }
  });

  it('lists exactly the visible products in the public catalog', async () => {
    const listed = new Set<string>();
    for (const vendorId of new Set(combos.map((c) => c.vendorId!))) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/products/?vendor=${vendorId}&limit=100` });
      expect(res.statusCode).toBe(200);
      for (const p of res.json<{ results: { id: string }[] }>().results) listed.add(p.id);
    }
    for (const c of combos) {
      expect({ ...flags(c), listed: listed.has(c.id!) }).toEqual({ ...flags(c), listed: core(c) });
    }
  });

  it('lets a customer put in a cart exactly the visible products; the others are 409 product_unavailable', async () => {
    const customer = await ctx.user('customer');
    for (const c of combos) {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: c.id, quantity: 1 }, as: customer });
      const code = res.statusCode === 201 ? 'added' : (res.json<{ code: string }>().code);
      expect({ ...flags(c), code }).toEqual({ ...flags(c), code: core(c) ? 'added' : 'product_unavailable' });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPubliclyVisible } from '../../core/product.js';
import { productFacts } from '../../shell/repos/stock.js';
import { publiclyVisible } from '../../shell/repos/products.js';
import { createProduct, createVendor } from '../support/commerce-fixtures.js';
import { createTestContext, type TestContext } from '../support/harness.js';

/**
 * Product visibility is one rule: core's isPubliclyVisible, with its SQL twin (publiclyVisible) for the
 * catalog queries. On every combination of the flags, the database and the core answer the same, and so
 * does what the commerce flow is told (productFacts' `available`) and what the public catalog serves.
 */
describe('product visibility: the core predicate and its SQL twin agree', () => {
  let ctx: TestContext;
  const combos: { is_active: boolean; deleted: boolean; vendor_is_active: boolean; id?: string }[] = [];

  beforeAll(async () => {
    ctx = await createTestContext();
    const vendors = { true: await createVendor(ctx, { is_active: true }), false: await createVendor(ctx, { is_active: false }) };
    for (const is_active of [true, false]) {
      for (const deleted of [true, false]) {
        for (const vendor_is_active of [true, false]) {
          const product = await createProduct(ctx.db, vendors[`${vendor_is_active}`], { is_active, deleted });
          combos.push({ is_active, deleted, vendor_is_active, id: product.id });
        }
      }
    }
  });
  afterAll(() => ctx.close());

  it('covers all eight combinations, and exactly one is public', () => {
    expect(combos).toHaveLength(8);
    expect(combos.filter((c) => isPubliclyVisible({ is_active: c.is_active, deleted_at: c.deleted ? new Date() : null, vendor_is_active: c.vendor_is_active }))).toHaveLength(1);
  });

  it('selects in SQL exactly the products the core calls publicly visible', async () => {
    const ids = combos.map((c) => c.id!);
    const sqlVisible = new Set((await ctx.db.selectFrom('products as p').select('p.id').where('p.id', 'in', ids).where(publiclyVisible).execute()).map((r) => r.id));
    for (const c of combos) {
      const core = isPubliclyVisible({ is_active: c.is_active, deleted_at: c.deleted ? new Date() : null, vendor_is_active: c.vendor_is_active });
      expect({ ...c, visible: sqlVisible.has(c.id!) }).toEqual({ ...c, visible: core });
    }
  });

  it('tells the commerce flow a product is available exactly when it is publicly visible', async () => {
    const facts = await productFacts(ctx.db, combos.map((c) => c.id!));
    for (const c of combos) {
      const core = isPubliclyVisible({ is_active: c.is_active, deleted_at: c.deleted ? new Date() : null, vendor_is_active: c.vendor_is_active });
      expect({ ...c, available: facts.get(c.id!)?.available }).toEqual({ ...c, available: core });
    }
  });

  it('serves exactly the visible products by id to an anonymous caller', async () => {
    for (const c of combos) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${c.id}/` });
      const core = isPubliclyVisible({ is_active: c.is_active, deleted_at: c.deleted ? new Date() : null, vendor_is_active: c.vendor_is_active });
      expect({ ...c, status: res.statusCode }).toEqual({ ...c, status: core ? 200 : 404 });
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from '../../shell/pagination.js';
import type { Product } from '../../shell/shapes/products.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { category, insertProduct, vendorWithProfile, type VendorFixture } from './product-fixtures.js';

interface ProblemBody {
  code: string;
  errors?: { path: string; message: string }[];
}

describe('products: create, read, change, delete', () => {
  let ctx: TestContext;
  let owner: VendorFixture;
  let other: VendorFixture;
  let admin: TestUser;
  let customer: TestUser;
  let bareVendor: TestUser;
  let cat: { id: string; slug: string };

  beforeAll(async () => {
    ctx = await createTestContext();
    owner = await vendorWithProfile(ctx);
    other = await vendorWithProfile(ctx);
    admin = await ctx.user('admin');
    customer = await ctx.user('customer');
    bareVendor = await ctx.user('vendor');
    cat = await category(ctx);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const valid = () => ({ name: 'Cast iron pan', description: 'Seasoned, 26 cm', unit_price: 4599, stock: 12, category_id: cat.id });
  const productRow = (id: string) => ctx.db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
  const productCount = async () => Number((await ctx.db.selectFrom('products').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  describe('POST /products/', () => {
    it('lets a vendor with a profile create a product for their own vendor, active by default', async () => {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: valid(), as: owner.user });
      expect(res.statusCode).toBe(201);
      const body = res.json<Product>();
      expect(body).toMatchObject({ ...valid(), vendor_id: owner.vendorId, currency: 'USD', is_active: true, images: [] });
      expect(Object.keys(body).sort()).toEqual(
        ['category_id', 'created_at', 'currency', 'description', 'id', 'images', 'is_active', 'name', 'stock', 'unit_price', 'updated_at', 'vendor_id'].sort(),
      );
      expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
      const row = await productRow(body.id);
      expect(row).toMatchObject({ vendor_id: owner.vendorId, unit_price: 4599, stock: 12, is_active: true, deleted_at: null });
    });

    it('accepts is_active false and an absent description', async () => {
      const { description: _d, ...rest } = valid();
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products', payload: { ...rest, is_active: false }, as: owner.user });
      expect(res.statusCode).toBe(201);
      expect(res.json<Product>()).toMatchObject({ is_active: false, description: '' });
    });

    it('refuses a vendor without a vendor profile with 403', async () => {
      const before = await productCount();
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: valid(), as: bareVendor });
      expect(res.statusCode).toBe(403);
      expect(res.json<ProblemBody>().code).toBe('forbidden');
      expect(await productCount()).toBe(before);
    });

    it('refuses a vendor who sends vendor_id with 403, even their own, and creates nothing', async () => {
      const before = await productCount();
      for (const vendor_id of [owner.vendorId, other.vendorId]) {
        const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: { ...valid(), vendor_id }, as: owner.user });
        expect(res.statusCode).toBe(403);
        expect(res.json<ProblemBody>().code).toBe('forbidden');
      }
      expect(await productCount()).toBe(before);
    });

    it('lets an admin create a product for the vendor named by vendor_id', async () => {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: { ...valid(), vendor_id: other.vendorId }, as: admin });
      expect(res.statusCode).toBe(201);
      expect(res.json<Product>().vendor_id).toBe(other.vendorId);
      expect((await productRow(res.json<Product>().id))?.vendor_id).toBe(other.vendorId);
    });

    it('requires vendor_id from an admin (400 at vendor_id) and refuses an unknown one', async () => {
      const missing = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: valid(), as: admin });
      expect(missing.statusCode).toBe(400);
      expect(missing.json<ProblemBody>()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'vendor_id' }] });
      const unknown = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: { ...valid(), vendor_id: randomUUID() }, as: admin });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json<ProblemBody>()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'vendor_id' }] });
    });

    it('refuses customers with 403 and anonymous callers with 401', async () => {
      const before = await productCount();
      const asCustomer = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: valid(), as: customer });
      expect(asCustomer.statusCode).toBe(403);
      expect(asCustomer.json<ProblemBody>().code).toBe('forbidden');
      const anonymous = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: valid() });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json<ProblemBody>().code).toBe('unauthenticated');
      expect(await productCount()).toBe(before);
    });

    it('answers an unknown category_id with 400 validation_failed at category_id', async () => {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: { ...valid(), category_id: randomUUID() }, as: owner.user });
      expect(res.statusCode).toBe(400);
      expect(res.json<ProblemBody>()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'category_id' }] });
    });

    it.each([
      ['a zero price', { unit_price: 0 }, 'unit_price'],
      ['a negative price', { unit_price: -5 }, 'unit_price'],
      ['a fractional price', { unit_price: 10.5 }, 'unit_price'],
      ['a price as a string', { unit_price: '10' }, 'unit_price'],
      ['a negative stock', { stock: -1 }, 'stock'],
      ['a fractional stock', { stock: 1.5 }, 'stock'],
      ['a stock beyond the column', { stock: 2 ** 31 }, 'stock'],
      ['an empty name', { name: '   ' }, 'name'],
      ['a malformed category id', { category_id: 'tools' }, 'category_id'],
      ['an unknown field', { price: 1 }, 'price'],
      ['a smuggled deleted_at', { deleted_at: null }, 'deleted_at'],
    ])('refuses %s with 400 validation_failed', async (_name, change, path) => {
      const before = await productCount();
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: { ...valid(), ...change }, as: owner.user });
      expect(res.statusCode).toBe(400);
      const body = res.json<ProblemBody>();
      expect(body.code).toBe('validation_failed');
      expect(body.errors?.map((e) => e.path)).toContain(path);
      expect(await productCount()).toBe(before);
    });

    it('refuses a body missing a required field', async () => {
      const { stock: _s, ...rest } = valid();
      const res = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: rest, as: owner.user });
      expect(res.statusCode).toBe(400);
      expect(res.json<ProblemBody>().errors?.map((e) => e.path)).toContain('stock');
    });
  });

  describe('GET /products/{id}/', () => {
    it('shows an active product of an active vendor to anyone, anonymous included', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Visible' });
      for (const as of [undefined, customer, other.user, owner.user, admin]) {
        const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, ...(as ? { as } : {}) });
        expect(res.statusCode).toBe(200);
        expect(res.json<Product>()).toMatchObject({ id, name: 'Visible', vendor_id: owner.vendorId, currency: 'USD', images: [] });
      }
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}` })).statusCode).toBe(200);
    });

    it('shows an inactive product only to its owner vendor and admins; others get 404', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { is_active: false });
      const expected: [TestUser | undefined, number][] = [
        [undefined, 404],
        [customer, 404],
        [other.user, 404],
        [owner.user, 200],
        [admin, 200],
      ];
      for (const [as, status] of expected) {
        const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, ...(as ? { as } : {}) });
        expect(res.statusCode, as?.role ?? 'anonymous').toBe(status);
        if (status === 200) expect(res.json<Product>().is_active).toBe(false);
      }
    });

    it('hides the products of an inactive vendor from everyone but that vendor and admins', async () => {
      const sleeping = await vendorWithProfile(ctx, { is_active: false });
      const id = await insertProduct(ctx, sleeping.vendorId, cat.id);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/` })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, as: customer })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, as: sleeping.user })).statusCode).toBe(200);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, as: admin })).statusCode).toBe(200);
    });

    it('answers 404 for a deleted product to everyone, its owner and admins included', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { deleted_at: new Date() });
      for (const as of [undefined, customer, owner.user, admin]) {
        const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, ...(as ? { as } : {}) });
        expect(res.statusCode).toBe(404);
        expect(res.json<ProblemBody>().code).toBe('not_found');
      }
    });

    it('lists the product images oldest first, in the detail and in the list', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id);
      const images = [randomUUID(), randomUUID()];
      for (const [i, imageId] of images.entries()) {
        await ctx.db
          .insertInto('product_images')
          .values({ id: imageId, product_id: id, storage_key: `${imageId}.png`, content_type: 'image/png', size_bytes: 10, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) })
          .execute();
      }
      // Rows keep keys; the URLs are built from the request's (valid) Host, as no PUBLIC_URL is set here.
      const expected = images.map((imageId) => ({ id: imageId, url: `http://localhost:80/api/v1/media/${imageId}.png` }));
      const detail = await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/` });
      expect(detail.json<Product>().images).toEqual(expected);
      const list = await ctx.request({ method: 'GET', url: `/api/v1/products/?vendor=${owner.vendorId}&limit=100` });
      expect(list.json<{ results: Product[] }>().results.find((p) => p.id === id)?.images).toEqual(expected);
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${randomUUID()}/` })).statusCode).toBe(404);
      const malformed = await ctx.request({ method: 'GET', url: '/api/v1/products/not-a-uuid/' });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json<ProblemBody>().errors?.[0]?.path).toBe('params.id');
    });

    it('answers 401 when a bearer token is sent but invalid', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id);
      const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, headers: { authorization: 'Bearer not.a.token' } });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('PATCH /products/{id}/', () => {
    it('lets the owner vendor change name, description, price, stock, category and is_active', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id);
      const cat2 = await category(ctx);
      ctx.clock.set(new Date('2030-01-02T03:04:05.678Z'));
      const change = { name: 'Renamed', description: 'New text', unit_price: 777, stock: 0, category_id: cat2.id, is_active: false };
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: change, as: owner.user });
      ctx.clock.real();
      expect(res.statusCode).toBe(200);
      expect(res.json<Product>()).toMatchObject({ ...change, updated_at: '2030-01-02T03:04:05.678Z' });
      expect(await productRow(id)).toMatchObject({ ...change, vendor_id: owner.vendorId });
    });

    it('answers the product unchanged for an empty body', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Same' });
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: {}, as: owner.user });
      expect(res.statusCode).toBe(200);
      expect(res.json<Product>().name).toBe('Same');
    });

    it('lets an admin change any product, including its vendor_id', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id);
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { vendor_id: other.vendorId, unit_price: 1 }, as: admin });
      expect(res.statusCode).toBe(200);
      expect(res.json<Product>()).toMatchObject({ vendor_id: other.vendorId, unit_price: 1 });
      expect(await productRow(id)).toMatchObject({ vendor_id: other.vendorId, unit_price: 1 });
    });

    it('refuses vendor_id from the owner vendor with 403 and changes nothing', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Mine' });
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { vendor_id: other.vendorId, name: 'Moved' }, as: owner.user });
      expect(res.statusCode).toBe(403);
      expect(res.json<ProblemBody>().code).toBe('forbidden');
      expect(await productRow(id)).toMatchObject({ vendor_id: owner.vendorId, name: 'Mine' });
    });

    it('answers 403 to another vendor for a public product and 404 for a hidden one, changing nothing', async () => {
      const publicId = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Public' });
      const hiddenId = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Hidden', is_active: false });
      const onPublic = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${publicId}/`, payload: { name: 'Hijacked' }, as: other.user });
      expect(onPublic.statusCode).toBe(403);
      expect(onPublic.json<ProblemBody>().code).toBe('forbidden');
      const onHidden = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${hiddenId}/`, payload: { name: 'Hijacked' }, as: other.user });
      expect(onHidden.statusCode).toBe(404);
      expect((await productRow(publicId))?.name).toBe('Public');
      expect((await productRow(hiddenId))?.name).toBe('Hidden');
    });

    it('answers 403 to customers and 401 to anonymous callers', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { name: 'Kept' });
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { name: 'X' }, as: customer })).statusCode).toBe(403);
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { name: 'X' } })).statusCode).toBe(401);
      expect((await productRow(id))?.name).toBe('Kept');
    });

    it('answers 404 for a deleted or unknown product', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { deleted_at: new Date() });
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { name: 'X' }, as: owner.user })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { name: 'X' }, as: admin })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'PATCH', url: `/api/v1/products/${randomUUID()}/`, payload: { name: 'X' }, as: admin })).statusCode).toBe(404);
    });

    it('refuses an unknown category or vendor with 400 at that field', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id);
      const badCategory = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { category_id: randomUUID() }, as: owner.user });
      expect(badCategory.statusCode).toBe(400);
      expect(badCategory.json<ProblemBody>().errors).toEqual([expect.objectContaining({ path: 'category_id' })]);
      const badVendor = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { vendor_id: randomUUID() }, as: admin });
      expect(badVendor.statusCode).toBe(400);
      expect(badVendor.json<ProblemBody>().errors).toEqual([expect.objectContaining({ path: 'vendor_id' })]);
      expect((await productRow(id))?.category_id).toBe(cat.id);
    });

    it('refuses a unit_price above 10^9 minor units with 400 at unit_price on change and create, and accepts 10^9', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { unit_price: 500 });
      for (const unit_price of [Number.MAX_SAFE_INTEGER, 1_000_000_001]) {
        const res = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { unit_price }, as: owner.user });
        expect(res.statusCode).toBe(400);
        expect(res.json<ProblemBody>()).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ path: 'unit_price' })] });
      }
      expect((await productRow(id))?.unit_price).toBe(500);
      const before = await productCount();
      const created = await ctx.request({ method: 'POST', url: '/api/v1/products/', payload: { ...valid(), unit_price: 1_000_000_001 }, as: owner.user });
      expect(created.statusCode).toBe(400);
      expect(created.json<ProblemBody>().errors?.map((e) => e.path)).toEqual(['unit_price']);
      expect(await productCount()).toBe(before);
      const atMax = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: { unit_price: 1_000_000_000 }, as: owner.user });
      expect(atMax.statusCode).toBe(200);
      expect((await productRow(id))?.unit_price).toBe(1_000_000_000);
    });

    it('has the database refuse a unit_price above 10^9 written around the API', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { unit_price: 500 });
      await expect(ctx.db.updateTable('products').set({ unit_price: 1_000_000_001 }).where('id', '=', id).execute()).rejects.toThrow(/products_unit_price_max/);
      expect((await productRow(id))?.unit_price).toBe(500);
    });

    it.each([
      [{ unit_price: 0 }, 'unit_price'],
      [{ stock: -3 }, 'stock'],
      [{ stock: 2.5 }, 'stock'],
      [{ is_active: 'yes' }, 'is_active'],
      [{ currency: 'EUR' }, 'currency'],
      [{ deleted_at: null }, 'deleted_at'],
    ])('refuses %j with 400 validation_failed', async (change, path) => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id, { unit_price: 500, stock: 4 });
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/products/${id}/`, payload: change, as: owner.user });
      expect(res.statusCode).toBe(400);
      expect(res.json<ProblemBody>().errors?.map((e) => e.path)).toContain(path);
      expect(await productRow(id)).toMatchObject({ unit_price: 500, stock: 4, is_active: true });
    });
  });

  describe('DELETE /products/{id}/', () => {
    it('soft-deletes for the owner vendor: 204, the row stays with deleted_at, and reads answer 404', async () => {
      const id = await insertProduct(ctx, owner.vendorId, cat.id);
      const res = await ctx.request({ method: 'DELETE', url: `/api/v1/products/${id}/`, as: owner.user });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      const row = await productRow(id);
      expect(row?.deleted_at).toBeInstanceOf(Date);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/` })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/products/${id}/`, as: owner.user })).statusCode).toBe(404);
      const list = await ctx.request({ method: 'GET', url: `/api/v1/products/?vendor=${owner.vendorId}&limit=100` });
      expect(list.json<{ results: Product[] }>().results.map((p) => p.id)).not.toContain(id);
    });

    it('lets an admin delete any product, and a second delete answers 404', async () => {
      const id = await insertProduct(ctx, other.vendorId, cat.id);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${id}/`, as: admin })).statusCode).toBe(204);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${id}/`, as: admin })).statusCode).toBe(404);
    });

    it('answers 403 to another vendor for a public product, 404 for a hidden one, 403 to customers, 401 anonymous', async () => {
      const publicId = await insertProduct(ctx, owner.vendorId, cat.id);
      const hiddenId = await insertProduct(ctx, owner.vendorId, cat.id, { is_active: false });
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${publicId}/`, as: other.user })).statusCode).toBe(403);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${hiddenId}/`, as: other.user })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${publicId}/`, as: customer })).statusCode).toBe(403);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${publicId}/` })).statusCode).toBe(401);
      expect((await productRow(publicId))?.deleted_at).toBeNull();
      expect((await productRow(hiddenId))?.deleted_at).toBeNull();
    });
  });
});

describe('GET /products/: filters and orderings of the public catalog', () => {
  let ctx: TestContext;
  const ids: Record<string, string> = {};
  let tools: { id: string; slug: string };
  let lamps: { id: string; slug: string };
  let v1: VendorFixture;
  let v2: VendorFixture;

  const t = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n));

  beforeAll(async () => {
    ctx = await createTestContext();
    v1 = await vendorWithProfile(ctx);
    v2 = await vendorWithProfile(ctx);
    const v3 = await vendorWithProfile(ctx, { is_active: false });
    tools = await category(ctx, 'tools');
    lamps = await category(ctx, 'lamps');
    ids.hammer = await insertProduct(ctx, v1.vendorId, tools.id, { name: 'Red Hammer', description: 'Forged steel', unit_price: 1500, stock: 5, created_at: t(1) });
    ids.saw = await insertProduct(ctx, v2.vendorId, tools.id, { name: 'Blue Saw', description: 'Sharp, 100% steel', unit_price: 2500, stock: 0, created_at: t(2) });
    ids.drill = await insertProduct(ctx, v1.vendorId, lamps.id, { name: 'Green Drill', description: 'Cordless', unit_price: 9900, stock: 3, created_at: t(3) });
    ids.lamp = await insertProduct(ctx, v2.vendorId, lamps.id, { name: 'Amber Lamp', description: 'warm_light', unit_price: 500, stock: 1, created_at: t(4) });
    // Never listed, though they match every filter below.
    await insertProduct(ctx, v1.vendorId, tools.id, { name: 'Hidden Hammer', description: 'steel 100% warm_light', unit_price: 1500, stock: 5, is_active: false, created_at: t(5) });
    await insertProduct(ctx, v1.vendorId, tools.id, { name: 'Deleted Hammer', description: 'steel 100% warm_light', unit_price: 1500, stock: 5, deleted_at: t(6), created_at: t(6) });
    await insertProduct(ctx, v3.vendorId, tools.id, { name: 'Sleeping Hammer', description: 'steel 100% warm_light', unit_price: 1500, stock: 5, created_at: t(7) });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const list = async (query: string) => {
    const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${query}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page<Product>>();
  };
  const names = async (query: string) => (await list(query)).results.map((p) => p.name);

  it('lists active products of active vendors, newest first by default, with the product shape', async () => {
    const page = await list('');
    expect(page.results.map((p) => p.name)).toEqual(['Amber Lamp', 'Green Drill', 'Blue Saw', 'Red Hammer']);
    expect(page.results[0]).toMatchObject({ id: ids.lamp, vendor_id: v2.vendorId, category_id: lamps.id, unit_price: 500, currency: 'USD', stock: 1, is_active: true, images: [] });
    expect(page).toMatchObject({ next: null, previous: null });
  });

  it.each([
    ['-created_at', ['Amber Lamp', 'Green Drill', 'Blue Saw', 'Red Hammer']],
    ['created_at', ['Red Hammer', 'Blue Saw', 'Green Drill', 'Amber Lamp']],
    ['price', ['Amber Lamp', 'Red Hammer', 'Blue Saw', 'Green Drill']],
    ['-price', ['Green Drill', 'Blue Saw', 'Red Hammer', 'Amber Lamp']],
    ['name', ['Amber Lamp', 'Blue Saw', 'Green Drill', 'Red Hammer']],
  ])('orders by %s', async (ordering, expected) => {
    expect(await names(`?ordering=${ordering}`)).toEqual(expected);
  });

  it('filters by category id and by category slug; an unknown slug matches nothing', async () => {
    expect(await names(`?category=${tools.id}`)).toEqual(['Blue Saw', 'Red Hammer']);
    expect(await names('?category=lamps')).toEqual(['Amber Lamp', 'Green Drill']);
    expect(await names('?category=no-such-slug')).toEqual([]);
    expect(await names(`?category=${randomUUID()}`)).toEqual([]);
  });

  it('filters by vendor id and refuses a malformed one', async () => {
    expect(await names(`?vendor=${v1.vendorId}`)).toEqual(['Green Drill', 'Red Hammer']);
    const bad = await ctx.request({ method: 'GET', url: '/api/v1/products/?vendor=acme' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<ProblemBody>().errors?.[0]?.path).toBe('query.vendor');
  });

  it('searches name and description case-insensitively', async () => {
    expect(await names('?q=HAMMER')).toEqual(['Red Hammer']);
    expect(await names('?q=aMbEr')).toEqual(['Amber Lamp']);
    expect(await names('?q=steel')).toEqual(['Blue Saw', 'Red Hammer']);
    expect(await names('?q=cordless')).toEqual(['Green Drill']);
    expect(await names('?q=nothing-like-this')).toEqual([]);
  });

  it('treats LIKE wildcards in q as plain characters', async () => {
    expect(await names(`?q=${encodeURIComponent('%')}`)).toEqual(['Blue Saw']);
    expect(await names('?q=_')).toEqual(['Amber Lamp']);
    expect(await names(`?q=${encodeURIComponent('100%')}`)).toEqual(['Blue Saw']);
  });

  it('treats an empty q as no search', async () => {
    expect(await names('?q=')).toHaveLength(4);
  });

  it('filters by min_price and max_price, both inclusive', async () => {
    expect(await names('?min_price=1500&ordering=price')).toEqual(['Red Hammer', 'Blue Saw', 'Green Drill']);
    expect(await names('?max_price=2500&ordering=price')).toEqual(['Amber Lamp', 'Red Hammer', 'Blue Saw']);
    expect(await names('?min_price=1500&max_price=2500&ordering=price')).toEqual(['Red Hammer', 'Blue Saw']);
    expect(await names('?min_price=2500&max_price=2500')).toEqual(['Blue Saw']);
  });

  it('refuses min_price above max_price, and negative or non-numeric prices, with 400', async () => {
    for (const query of ['?min_price=3000&max_price=2000', '?min_price=-1', '?max_price=abc', '?min_price=1.5']) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json<ProblemBody>().code).toBe('validation_failed');
    }
    const crossed = await ctx.request({ method: 'GET', url: '/api/v1/products/?min_price=3000&max_price=2000' });
    expect(crossed.json<ProblemBody>().errors?.[0]?.path).toBe('query.min_price');
  });

  it('keeps only products in stock with in_stock=true; in_stock=false applies no stock filter', async () => {
    expect(await names('?in_stock=true')).toEqual(['Amber Lamp', 'Green Drill', 'Red Hammer']);
    expect(await names('?in_stock=false')).toEqual(['Amber Lamp', 'Green Drill', 'Blue Saw', 'Red Hammer']);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/products/?in_stock=yes' })).statusCode).toBe(400);
  });

  it('combines filters and ordering', async () => {
    expect(await names(`?category=tools&in_stock=true&ordering=price`)).toEqual(['Red Hammer']);
    expect(await names(`?vendor=${v2.vendorId}&q=a&max_price=2500&ordering=-price`)).toEqual(['Blue Saw', 'Amber Lamp']);
  });

  it('refuses an unknown ordering, a limit outside 1-100 and a cursor it did not issue', async () => {
    for (const [query, path] of [
      ['?ordering=popularity', 'query.ordering'],
      ['?limit=0', 'query.limit'],
      ['?limit=101', 'query.limit'],
      ['?cursor=forged.cursor', 'query.cursor'],
    ] as const) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/products/${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json<ProblemBody>().errors?.[0]?.path).toBe(path);
    }
  });

  it('refuses a cursor issued for another ordering', async () => {
    const first = await list('?limit=2&ordering=price');
    const cursor = new URL(first.next!).searchParams.get('cursor')!;
    const res = await ctx.request({ method: 'GET', url: `/api/v1/products/?ordering=name&cursor=${cursor}` });
    expect(res.statusCode).toBe(400);
  });
});

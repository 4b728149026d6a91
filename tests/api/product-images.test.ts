import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../shell/cache.js';
import { loadConfig } from '../../shell/config.js';
import { cloudinaryMediaStore } from '../../shell/media/cloudinary.js';
import { createMediaStore } from '../../shell/adapters.js';
import { sql } from 'kysely';
import { migrateToLatest, migrator, openPostgres } from '../../shell/db.js';
import { imagesForProducts } from '../../shell/repos/product-images.js';
import { startCloudinaryStandIn, type CloudinaryStandIn } from '../support/cloudinary-stand-in.js';
import { createTestContext, createTestDatabase, type TestContext, type TestUser } from '../support/harness.js';
import { jpegOf, webpOf } from '../support/images.js';

// A real 1×1 PNG, and minimal JPEG / WebP files whose headers declare their dimensions (the API judges
// the type by magic bytes and the dimensions by the header; it never decodes pixels).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const JPEG = jpegOf(640, 480);
const WEBP = webpOf(800, 600);
const FIVE_MB = 5 * 1024 * 1024;

interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----nexus${randomUUID()}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`), Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const fileUpload = (data: Buffer, filename = 'photo.png', contentType = 'image/png') => multipart([{ name: 'file', filename, contentType, data }]);

interface Shop {
  user: TestUser;
  vendorId: string;
  categoryId: string;
}

async function shopOf(ctx: TestContext): Promise<Shop> {
  const user = await ctx.user('vendor');
  const vendorId = randomUUID();
  const categoryId = randomUUID();
  const now = new Date();
  await ctx.db.insertInto('vendors').values({ id: vendorId, user_id: user.id, business_name: 'Shop', created_at: now, updated_at: now }).execute();
  await ctx.db.insertInto('categories').values({ id: categoryId, name: 'C', slug: `c-${categoryId}`, created_at: now, updated_at: now }).execute();
  return { user, vendorId, categoryId };
}

async function productOf(ctx: TestContext, shop: Shop, fields: { is_active?: boolean; deleted_at?: Date } = {}): Promise<string> {
  const id = randomUUID();
  const now = new Date();
  await ctx.db
    .insertInto('products')
    .values({
      id,
      vendor_id: shop.vendorId,
      category_id: shop.categoryId,
      name: 'Thing',
      unit_price: 100,
      stock: 1,
      is_active: fields.is_active ?? true,
      deleted_at: fields.deleted_at ?? null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

const imageRows = (ctx: TestContext, productId: string) => ctx.db.selectFrom('product_images').selectAll().where('product_id', '=', productId).execute();
const pathOf = (url: string) => new URL(url).pathname;

describe('product images on local storage', () => {
  let ctx: TestContext;
  let dataDir: string;
  let shop: Shop;
  let admin: TestUser;
  const cache = memoryCache();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nexus-media-'));
    ctx = await createTestContext({ env: { DATA_DIR: dataDir }, deps: { cache } });
    shop = await shopOf(ctx);
    admin = await ctx.user('admin');
  });
  afterAll(async () => {
    await ctx.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const upload = (productId: string, body: { payload: Buffer; headers: Record<string, string> }, as?: TestUser, slash = '/') =>
    ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images${slash}`, ...body, ...(as ? { as } : {}) });

  it('stores an image for the owner vendor (201 {id, url}), serves it back and lists it with the product', async () => {
    const productId = await productOf(ctx, shop);
    const before = await cache.generation('products');
    const res = await upload(productId, fileUpload(PNG), shop.user);
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { id: string; url: string };
    expect(Object.keys(body).sort()).toEqual(['id', 'url']);
    expect(body.url).toBe(`http://localhost:80/api/v1/media/${body.id}.png`);
    expect(await cache.generation('products')).toBeGreaterThan(before);

    // The row keeps the store's key only: the URL is built from it when a response is.
    const rows = await imageRows(ctx, productId);
    expect(rows).toEqual([{ id: body.id, product_id: productId, storage_key: `${body.id}.png`, content_type: 'image/png', size_bytes: PNG.length, created_at: expect.any(Date) }]);
    expect(await readFile(path.join(dataDir, 'media', `${body.id}.png`))).toEqual(PNG);

    const served = await ctx.request({ method: 'GET', url: pathOf(body.url) });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('image/png');
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(served.rawPayload).toEqual(PNG);

    const images = await imagesForProducts(ctx.db, [productId, randomUUID()]);
    expect(images.get(productId)).toEqual([{ id: body.id, storage_key: `${body.id}.png` }]);
    expect([...images.values()][1]).toEqual([]);
  });

  it('judges the type by the bytes, not by the file name or declared type', async () => {
    const productId = await productOf(ctx, shop);
    const jpeg = await upload(productId, fileUpload(JPEG, 'not-really.gif', 'image/gif'), shop.user);
    expect(jpeg.statusCode).toBe(201);
    const webp = await upload(productId, fileUpload(WEBP, 'noext', 'text/plain'), shop.user, '');
    expect(webp.statusCode).toBe(201);
    expect((await imageRows(ctx, productId)).map((r) => r.content_type).sort()).toEqual(['image/jpeg', 'image/webp']);
    expect((await ctx.request({ method: 'GET', url: pathOf((webp.json() as { url: string }).url) })).headers['content-type']).toBe('image/webp');

    for (const [data, name, type] of [
      [Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'evil.png', 'image/png'],
      [Buffer.from('GIF89a\x01\x00\x01\x00'), 'anim.gif', 'image/gif'],
      [Buffer.from('%PDF-1.7 ...'), 'doc.jpg', 'image/jpeg'],
    ] as const) {
      const res = await upload(productId, fileUpload(data, name, type), shop.user);
      expect(res.statusCode, name).toBe(415);
      expect(res.json()).toMatchObject({ code: 'unsupported_media_type' });
    }
    expect(await imageRows(ctx, productId)).toHaveLength(2);
  });

  it('answers 413 payload_too_large for a file over 5 MB, storing nothing', async () => {
    const productId = await productOf(ctx, shop);
    const big = Buffer.concat([PNG, Buffer.alloc(FIVE_MB, 0)]);
    const res = await upload(productId, fileUpload(big), shop.user);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'payload_too_large' });
    expect(await imageRows(ctx, productId)).toHaveLength(0);
    // Just under the limit is fine: the 1 MiB JSON limit does not apply here.
    const justUnder = await upload(productId, fileUpload(Buffer.concat([PNG, Buffer.alloc(FIVE_MB - PNG.length - 1, 0)])), shop.user);
    expect(justUnder.statusCode).toBe(201);
  });

  it('answers 400 validation_failed when the file is missing, empty or in another field, and 415 for a JSON body', async () => {
    const productId = await productOf(ctx, shop);
    const cases = [
      multipart([{ name: 'caption', data: 'hello' }]),
      multipart([{ name: 'image', filename: 'a.png', contentType: 'image/png', data: PNG }]),
      fileUpload(Buffer.alloc(0)),
    ];
    for (const body of cases) {
      const res = await upload(productId, body, shop.user);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'file' }] });
    }
    const none = await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user });
    expect(none.statusCode).toBe(400);
    const json = await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload: { file: PNG.toString('base64') } });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ code: 'unsupported_media_type' });
    const emptyJson = await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload: {} });
    expect(emptyJson.statusCode).toBe(415);
    expect(await imageRows(ctx, productId)).toHaveLength(0);
  });

  it('follows the role matrix on upload: anonymous 401, customer 403, other vendor 403 (public product), admin 201', async () => {
    const productId = await productOf(ctx, shop);
    expect((await upload(productId, fileUpload(PNG))).statusCode).toBe(401);
    const customer = await upload(productId, fileUpload(PNG), await ctx.user('customer'));
    expect(customer.statusCode).toBe(403);
    expect(customer.json()).toMatchObject({ code: 'forbidden' });
    const other = await shopOf(ctx);
    expect((await upload(productId, fileUpload(PNG), other.user)).statusCode).toBe(403);
    expect(await imageRows(ctx, productId)).toHaveLength(0);
    expect((await upload(productId, fileUpload(PNG), admin)).statusCode).toBe(201);
    expect(await imageRows(ctx, productId)).toHaveLength(1);
  });

  it('answers other vendors 404 for a product the public cannot see, and everyone 404 for deleted or unknown products', async () => {
    const other = await shopOf(ctx);
    const hidden = await productOf(ctx, shop, { is_active: false });
    expect((await upload(hidden, fileUpload(PNG), other.user)).statusCode).toBe(404);
    expect((await upload(hidden, fileUpload(PNG), shop.user)).statusCode).toBe(201);
    const deleted = await productOf(ctx, shop, { deleted_at: new Date() });
    expect((await upload(deleted, fileUpload(PNG), shop.user)).statusCode).toBe(404);
    expect((await upload(deleted, fileUpload(PNG), admin)).statusCode).toBe(404);
    expect((await upload(randomUUID(), fileUpload(PNG), admin)).statusCode).toBe(404);
    expect(await imageRows(ctx, deleted)).toHaveLength(0);
  });

  it('deletes an image (204) from the database and from storage, following the role matrix', async () => {
    const productId = await productOf(ctx, shop);
    const made = (await upload(productId, fileUpload(PNG), shop.user)).json() as { id: string; url: string };
    const url = `/api/v1/products/${productId}/images/${made.id}/`;
    expect((await ctx.request({ method: 'DELETE', url })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'DELETE', url, as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'DELETE', url, as: (await shopOf(ctx)).user })).statusCode).toBe(403);
    expect(await imageRows(ctx, productId)).toHaveLength(1);

    const before = await cache.generation('products');
    const res = await ctx.request({ method: 'DELETE', url: url.slice(0, -1), as: shop.user });
    expect(res.statusCode).toBe(204);
    expect(await imageRows(ctx, productId)).toHaveLength(0);
    expect(existsSync(path.join(dataDir, 'media', `${made.id}.png`))).toBe(false);
    expect((await ctx.request({ method: 'GET', url: pathOf(made.url) })).statusCode).toBe(404);
    expect(await cache.generation('products')).toBeGreaterThan(before);
    expect((await ctx.request({ method: 'DELETE', url, as: shop.user })).statusCode).toBe(404);

    const byAdmin = (await upload(productId, fileUpload(JPEG), shop.user)).json() as { id: string };
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${productId}/images/${byAdmin.id}/`, as: admin })).statusCode).toBe(204);
    expect(await imageRows(ctx, productId)).toHaveLength(0);
  });

  it("answers 404 for an image id that belongs to another product", async () => {
    const a = await productOf(ctx, shop);
    const b = await productOf(ctx, shop);
    const made = (await upload(a, fileUpload(PNG), shop.user)).json() as { id: string };
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${b}/images/${made.id}/`, as: shop.user })).statusCode).toBe(404);
    expect(await imageRows(ctx, a)).toHaveLength(1);
  });

  it('serves only files inside the media directory', async () => {
    await writeFile(path.join(dataDir, 'secret.png'), PNG);
    for (const key of ['..%2Fsecret.png', '%2e%2e%2fsecret.png', '..%5Csecret.png', 'secret.png', 'x.exe']) {
      const res = await ctx.request({ method: 'GET', url: `/api/v1/media/${key}` });
      expect(res.statusCode, key).toBe(404);
    }
    // U+0000 is refused as text before any lookup (400 validation_failed at params.key).
    expect((await ctx.request({ method: 'GET', url: '/api/v1/media/%00.png' })).statusCode).toBe(400);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/media/../secret.png' })).statusCode).toBe(404);
  });

  it('documents the image routes in OpenAPI with a tag and multipart input', async () => {
    const doc = (await ctx.request({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>> };
    const post = doc.paths['/api/v1/products/{id}/images/']?.post;
    expect(post?.tags).toEqual(['products']);
    expect(Object.keys(post!.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '404', '413', '415']));
    expect(doc.paths['/api/v1/products/{id}/images/{image_id}/']?.delete?.summary).toBeTruthy();
    expect(doc.paths['/api/v1/media/{key}']?.get?.tags).toEqual(['products']);
    expect(JSON.stringify((post as { requestBody?: unknown }).requestBody)).toContain('multipart/form-data');
  });
});

describe('product images on Cloudinary (against a local stand-in of its Upload API)', () => {
  let standIn: CloudinaryStandIn;
  let ctx: TestContext;
  let shop: Shop;

  beforeAll(async () => {
    standIn = await startCloudinaryStandIn();
    ctx = await createTestContext({ env: { CLOUDINARY_URL: standIn.cloudinaryUrl, CLOUDINARY_UPLOAD_PREFIX: standIn.url } });
    shop = await shopOf(ctx);
  });
  afterAll(async () => {
    await ctx.close();
    await standIn.close();
  });

  it('picks Cloudinary when CLOUDINARY_URL is set, else local files', () => {
    expect(createMediaStore(ctx.config).kind).toBe('cloudinary');
    expect(createMediaStore(loadConfig({ NODE_ENV: 'test' })).kind).toBe('local');
  });

  it('uploads through the signed Upload API and answers with the delivery URL built from the public id', async () => {
    const productId = await productOf(ctx, shop);
    const { payload, headers } = fileUpload(PNG);
    const res = await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload, headers });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as { id: string; url: string };
    const publicId = `nexus/product-images/${body.id}`;
    expect(body.url).toBe(`https://res.cloudinary.com/${standIn.cloudName}/image/upload/${publicId}`);

    const asset = standIn.assets.get(publicId);
    expect(asset?.bytes).toEqual(PNG);
    expect(asset?.params).toMatchObject({ api_key: standIn.apiKey, public_id: publicId, signature: expect.stringMatching(/^[0-9a-f]{40}$/), timestamp: expect.any(String) });
    expect(standIn.calls.at(-1)).toMatchObject({ action: 'upload', status: 200 });
    expect(JSON.stringify(asset?.params)).not.toContain(standIn.apiSecret);
    expect(await imageRows(ctx, productId)).toEqual([expect.objectContaining({ id: body.id, storage_key: publicId })]);
    expect(Object.keys((await imageRows(ctx, productId))[0]!)).not.toContain('url');
    // Absolute already: the same URL whatever host the product is read through.
    const detail = await ctx.request({ method: 'GET', url: `/api/v1/products/${productId}/`, headers: { host: 'elsewhere.example:8443' } });
    expect(detail.json<{ images: unknown[] }>().images).toEqual([{ id: body.id, url: body.url }]);
  });

  it('destroys the asset when the image is deleted', async () => {
    const productId = await productOf(ctx, shop);
    const { payload, headers } = fileUpload(WEBP, 'w.webp', 'image/webp');
    const made = (await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload, headers })).json() as { id: string };
    const publicId = `nexus/product-images/${made.id}`;
    expect(standIn.assets.has(publicId)).toBe(true);

    const res = await ctx.request({ method: 'DELETE', url: `/api/v1/products/${productId}/images/${made.id}/`, as: shop.user });
    expect(res.statusCode).toBe(204);
    expect(standIn.assets.has(publicId)).toBe(false);
    expect(standIn.calls.at(-1)).toMatchObject({ action: 'destroy', status: 200, params: { public_id: publicId, api_key: standIn.apiKey } });
    expect(await imageRows(ctx, productId)).toHaveLength(0);
  });

  it('fails loudly when the signature is wrong (the stand-in refuses it)', async () => {
    const store = cloudinaryMediaStore({ url: `cloudinary://${standIn.apiKey}:wrong-secret@${standIn.cloudName}`, uploadPrefix: standIn.url });
    await expect(store.put({ key: `${randomUUID()}.png`, bytes: PNG, contentType: 'image/png' })).rejects.toThrow(/Invalid Signature/);
    expect(standIn.calls.at(-1)).toMatchObject({ action: 'upload', status: 401 });
  });

  it('treats removing an asset that is already gone as done', async () => {
    const store = createMediaStore(ctx.config);
    await expect(store.remove('nexus/product-images/never-uploaded')).resolves.toBeUndefined();
    expect(standIn.calls.at(-1)).toMatchObject({ action: 'destroy', status: 200 });
  });
});

describe('local image URLs behind a public URL', () => {
  let ctx: TestContext;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nexus-media-'));
    ctx = await createTestContext({ env: { DATA_DIR: dataDir, PUBLIC_URL: 'https://shop.example.com/' } });
  });
  afterAll(async () => {
    await ctx.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('builds the image URL from PUBLIC_URL rather than the request host', async () => {
    const shop = await shopOf(ctx);
    const productId = await productOf(ctx, shop);
    const { payload, headers } = fileUpload(PNG);
    const res = await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload, headers: { ...headers, host: 'internal:8080' } });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { id: string; url: string };
    expect(body.url).toBe(`https://shop.example.com/api/v1/media/${body.id}.png`);
    expect((await ctx.request({ method: 'GET', url: pathOf(body.url) })).rawPayload).toEqual(PNG);
  });
});

describe('image URLs are built when a response is, never stored', () => {
  let ctx: TestContext;
  let dataDir: string;
  let shop: Shop;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nexus-media-'));
    ctx = await createTestContext({ env: { DATA_DIR: dataDir } });
    shop = await shopOf(ctx);
  });
  afterAll(async () => {
    await ctx.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const uploadVia = (productId: string, host: string) => {
    const { payload, headers } = fileUpload(PNG);
    return ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload, headers: { ...headers, host } });
  };
  const detailVia = (productId: string, host: string) => ctx.request({ method: 'GET', url: `/api/v1/products/${productId}/`, headers: { host } });

  it('stores no Host: an image uploaded through one host is served with the host of whoever reads it', async () => {
    const productId = await productOf(ctx, shop);
    const res = await uploadVia(productId, 'uploader.example:8080');
    expect(res.statusCode).toBe(201);
    const { id, url } = res.json() as { id: string; url: string };
    expect(url).toBe(`http://uploader.example:8080/api/v1/media/${id}.png`);
    // Before: the row stored this URL and every reader was served the uploader's Host. Now: the key only.
    expect(await imageRows(ctx, productId)).toEqual([expect.objectContaining({ id, storage_key: `${id}.png` })]);
    expect(JSON.stringify(await imageRows(ctx, productId))).not.toContain('uploader.example');

    const read = await detailVia(productId, 'shop.example');
    expect(read.json<{ images: unknown[] }>().images).toEqual([{ id, url: `http://shop.example/api/v1/media/${id}.png` }]);
    const list = await ctx.request({ method: 'GET', url: `/api/v1/products/?vendor=${shop.vendorId}&limit=100`, headers: { host: 'list.example' } });
    const listed = list.json<{ results: { id: string; images: { url: string }[] }[] }>().results.find((p) => p.id === productId);
    expect(listed?.images.map((i) => i.url)).toEqual([`http://list.example/api/v1/media/${id}.png`]);
  });

  it('answers 400 bad_request for an invalid Host, on upload (nothing stored) and on reads', async () => {
    const productId = await productOf(ctx, shop);
    const files = async () => (existsSync(path.join(dataDir, 'media')) ? (await readdir(path.join(dataDir, 'media'))).length : 0);
    const before = await files();
    for (const host of ['evil.example/x?', 'a b', 'x@evil.example', '-bad-.example']) {
      const res = await uploadVia(productId, host);
      expect({ host, status: res.statusCode }).toEqual({ host, status: 400 });
      expect(res.json()).toMatchObject({ code: 'bad_request' });
      expect((await detailVia(productId, host)).statusCode).toBe(400);
    }
    expect(await imageRows(ctx, productId)).toHaveLength(0);
    expect(await files()).toBe(before);
  });

  it('never serves one host\'s cached URLs to another: the base URL is part of the cache key', async () => {
    const productId = await productOf(ctx, shop);
    const { id } = (await uploadVia(productId, 'a.example')).json() as { id: string };
    const first = await detailVia(productId, 'a.example');
    expect(first.headers['x-cache']).toBe('miss');
    const other = await detailVia(productId, 'b.example');
    expect(other.headers['x-cache']).toBe('miss');
    expect(other.json<{ images: { url: string }[] }>().images[0]!.url).toBe(`http://b.example/api/v1/media/${id}.png`);
    const again = await detailVia(productId, 'a.example');
    expect(again.headers['x-cache']).toBe('hit');
    expect(again.json<{ images: { url: string }[] }>().images[0]!.url).toBe(`http://a.example/api/v1/media/${id}.png`);
  });
});

describe('image URLs under PUBLIC_URL and behind a proxy', () => {
  let ctx: TestContext;
  let proxied: TestContext;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nexus-media-'));
    ctx = await createTestContext({ env: { DATA_DIR: dataDir, PUBLIC_URL: 'https://shop.example.com/store/' } });
    proxied = await createTestContext({ env: { DATA_DIR: dataDir, TRUST_PROXY: 'true' } });
  });
  afterAll(async () => {
    await ctx.close();
    await proxied.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses PUBLIC_URL (its path prefix kept) whatever the Host or an absolute request-target say', async () => {
    const shop = await shopOf(ctx);
    const productId = await productOf(ctx, shop);
    const { payload, headers } = fileUpload(PNG);
    const made = await ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: shop.user, payload, headers: { ...headers, host: 'not a host' } });
    expect(made.statusCode).toBe(201);
    const { id } = made.json() as { id: string };
    const expected = `https://shop.example.com/store/api/v1/media/${id}.png`;
    expect(made.json()).toEqual({ id, url: expected });
    const absolute = await ctx.request({ method: 'GET', url: `http://evil.example/api/v1/products/${productId}/`, headers: { host: 'evil.example' } });
    expect(absolute.statusCode).toBe(200);
    expect(absolute.json<{ images: unknown[] }>().images).toEqual([{ id, url: expected }]);
    await productOf(ctx, shop);
    const list = await ctx.request({ method: 'GET', url: `http://evil.example/api/v1/products/?vendor=${shop.vendorId}&limit=1&ordering=created_at`, headers: { host: 'evil.example' } });
    const page = list.json<{ results: { images: unknown[] }[]; next: string }>();
    expect(page.results[0]!.images).toEqual([{ id, url: expected }]);
    expect(page.next).toMatch(/^https:\/\/shop\.example\.com\/store\/api\/v1\/products\/\?vendor=[0-9a-f-]+&ordering=created_at&limit=1&cursor=/);
  });

  it('with TRUST_PROXY takes X-Forwarded-Host and -Proto only when they are a valid host and http or https', async () => {
    const shop = await shopOf(proxied);
    const productId = await productOf(proxied, shop);
    await proxied.db.insertInto('product_images').values({ id: randomUUID(), product_id: productId, storage_key: 'k.png', content_type: 'image/png', size_bytes: 1, created_at: new Date() }).execute();
    const read = (headers: Record<string, string>) => proxied.request({ method: 'GET', url: `/api/v1/products/${productId}/`, headers });
    const ok = await read({ 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'https' });
    expect(ok.json<{ images: { url: string }[] }>().images[0]!.url).toBe('https://shop.example/api/v1/media/k.png');
    expect((await read({ 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'javascript' })).json()).toMatchObject({ status: 400, code: 'bad_request' });
    expect((await read({ 'x-forwarded-host': 'evil.example/"><script>' })).json()).toMatchObject({ status: 400, code: 'bad_request' });
  });
});

describe('migration 0010_image_keys: rows keep keys, not URLs', () => {
  it('keeps every key, recovers a missing one from its URL, refuses a row it cannot convert, and drops url', async () => {
    const database = await createTestDatabase();
    const handle = openPostgres(database.url, 2);
    try {
      const names = (await migrator(handle.db).getMigrations()).map((m) => m.name);
      const previous = names[names.indexOf('0010_image_keys') - 1]!;
      expect((await migrator(handle.db).migrateTo(previous)).error).toBeUndefined();

      const [user, vendor, cat, product] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await sql`INSERT INTO users (id, email, full_name, password_hash, role, is_active, created_at, updated_at)
                VALUES (${user}, 'v@example.test', 'V', 'x', 'vendor', true, now(), now())`.execute(handle.db);
      await sql`INSERT INTO vendors (id, user_id, business_name, is_active, created_at, updated_at) VALUES (${vendor}, ${user}, 'S', true, now(), now())`.execute(handle.db);
      await sql`INSERT INTO categories (id, name, slug, created_at, updated_at) VALUES (${cat}, 'C', 'c', now(), now())`.execute(handle.db);
      await sql`INSERT INTO products (id, vendor_id, category_id, name, description, unit_price, stock, is_active, created_at, updated_at)
                VALUES (${product}, ${vendor}, ${cat}, 'P', '', 100, 1, true, now(), now())`.execute(handle.db);
      const image = (id: string, key: string, url: string) =>
        sql`INSERT INTO product_images (id, product_id, storage_key, url, content_type, size_bytes, created_at)
            VALUES (${id}, ${product}, ${key}, ${url}, 'image/png', 10, now())`.execute(handle.db);
      const [kept, local, cloud, lost] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      // As the old code wrote them: a request's Host baked into the URL.
      await image(kept, `${kept}.png`, `http://attacker.example/api/v1/media/${kept}.png`);
      await image(local, '', `https://shop.example.com/api/v1/media/${local}.webp`);
      await image(cloud, '', `https://res.cloudinary.com/demo/image/upload/v1712/nexus/product-images/${cloud}.jpg`);
      await image(lost, '', 'https://elsewhere.example/picture');

      await expect(migrateToLatest(handle.db)).rejects.toThrow(/0010_image_keys.*without a storage key/);
      await sql`DELETE FROM product_images WHERE id = ${lost}`.execute(handle.db);
      expect(await migrateToLatest(handle.db)).toContain('0010_image_keys');

      const rows = (await sql<{ id: string; storage_key: string }>`SELECT id, storage_key FROM product_images ORDER BY storage_key`.execute(handle.db)).rows;
      expect(new Map(rows.map((r) => [r.id, r.storage_key]))).toEqual(
        new Map([
          [kept, `${kept}.png`],
          [local, `${local}.webp`],
          [cloud, `nexus/product-images/${cloud}`],
        ]),
      );
      const columns = (await sql<{ c: string }>`SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'product_images'`.execute(handle.db)).rows.map((r) => r.c);
      expect(columns).not.toContain('url');
    } finally {
      await handle.close();
      await database.drop();
    }
  });
});

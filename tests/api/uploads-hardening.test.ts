import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { imageSize } from 'image-size';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IMAGE_PIXELS, MAX_IMAGES_PER_PRODUCT } from '../../core/catalog.js';
import { readImageHeader } from '../../shell/media/image-header.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';
import { jpegOf, pngOf, webpOf } from '../support/images.js';

/**
 * Upload hardening (issue 12, item 5): at most 10 images per product (409 image_limit_reached), image
 * dimensions read from the header without decoding and refused above 50 megapixels (400
 * validation_failed at file), and malformed multipart bodies answered 400/415, never 500. Nothing is
 * stored (no row, no file) for a refused upload.
 */

function multipart(file: Buffer, filename = 'photo.bin'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----nexus${randomUUID()}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('upload hardening', () => {
  let ctx: TestContext;
  let dataDir: string;
  let vendor: TestUser;
  let vendorId: string;
  let categoryId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'nexus-uploads-'));
    ctx = await createTestContext({ env: { DATA_DIR: dataDir } });
    vendor = await ctx.user('vendor');
    vendorId = randomUUID();
    categoryId = randomUUID();
    const now = new Date();
    await ctx.db.insertInto('vendors').values({ id: vendorId, user_id: vendor.id, business_name: 'Shop', created_at: now, updated_at: now }).execute();
    await ctx.db.insertInto('categories').values({ id: categoryId, name: 'C', slug: `c-${categoryId}`, created_at: now, updated_at: now }).execute();
  });
  afterAll(async () => {
    await ctx.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function product(): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await ctx.db.insertInto('products').values({ id, vendor_id: vendorId, category_id: categoryId, name: 'Thing', unit_price: 100, stock: 1, is_active: true, created_at: now, updated_at: now }).execute();
    return id;
  }
  const upload = (productId: string, body: { payload: Buffer | string; headers: Record<string, string> }) =>
    ctx.request({ method: 'POST', url: `/api/v1/products/${productId}/images/`, as: vendor, ...body });
  const rows = (productId: string) => ctx.db.selectFrom('product_images').select(['id', 'storage_key']).where('product_id', '=', productId).execute();
  const storedFiles = async () => (existsSync(path.join(dataDir, 'media')) ? (await readdir(path.join(dataDir, 'media'))).sort() : []);

  describe('at most 10 images per product', () => {
    it('takes ten, refuses the eleventh with 409 image_limit_reached storing nothing, and takes one again after a delete', async () => {
      expect(MAX_IMAGES_PER_PRODUCT).toBe(10);
      const productId = await product();
      const made: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await upload(productId, multipart(pngOf(64 + i, 64)));
        expect(res.statusCode).toBe(201);
        made.push(res.json<{ id: string }>().id);
      }
      const files = await storedFiles();
      // Before: the eleventh (and the thousandth) were stored too.
      const eleventh = await upload(productId, multipart(pngOf(64, 64)));
      expect(eleventh.statusCode).toBe(409);
      expect(eleventh.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(eleventh.json()).toMatchObject({ status: 409, code: 'image_limit_reached', title: 'Image limit reached' });
      expect(await rows(productId)).toHaveLength(10);
      expect(await storedFiles()).toEqual(files);

      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/products/${productId}/images/${made[0]}/`, as: vendor })).statusCode).toBe(204);
      expect((await upload(productId, multipart(pngOf(64, 64)))).statusCode).toBe(201);
      expect(await rows(productId)).toHaveLength(10);
    });

    it('lets only one of five concurrent uploads take the last place, and keeps no file of the others', async () => {
      const productId = await product();
      for (let i = 0; i < 9; i++) expect((await upload(productId, multipart(pngOf(32, 32)))).statusCode).toBe(201);
      const before = await storedFiles();
      const answers = await Promise.all(Array.from({ length: 5 }, () => upload(productId, multipart(pngOf(32, 32)))));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
      const stored = await rows(productId);
      expect(stored).toHaveLength(10);
      const added = (await storedFiles()).filter((f) => !before.includes(f));
      expect(added).toEqual([stored.find((r) => r.id === answers.find((a) => a.statusCode === 201)!.json<{ id: string }>().id)!.storage_key]);
    });
  });

  describe('dimensions from the header, at most 50 megapixels', () => {
    it('accepts exactly 50 megapixels and refuses one row more, as 400 validation_failed at file', async () => {
      expect(MAX_IMAGE_PIXELS).toBe(50_000_000);
      const productId = await product();
      expect((await upload(productId, multipart(pngOf(10_000, 5_000)))).statusCode).toBe(201);
      const over = await upload(productId, multipart(pngOf(10_000, 5_001)));
      expect(over.statusCode).toBe(400);
      expect(over.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'file', message: expect.stringMatching(/10000×5001 pixels; at most 50 megapixels/) }] });
      expect(await rows(productId)).toHaveLength(1);
    });

    it('refuses small files declaring huge canvases in every accepted format, storing nothing', async () => {
      const productId = await product();
      const files = await storedFiles();
      // Before: a 100000×100000 PNG of a few dozen bytes was accepted and served to every storefront.
      for (const [name, bytes] of [
        ['png 100000×100000', pngOf(100_000, 100_000)],
        ['jpeg 65535×65535', jpegOf(65_535, 65_535)],
        ['webp 16384×16384', webpOf(16_384, 16_384)],
      ] as const) {
        expect(bytes.length).toBeLessThan(100);
        const res = await upload(productId, multipart(bytes));
        expect({ name, status: res.statusCode }).toEqual({ name, status: 400 });
        expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'file' }] });
      }
      expect(await rows(productId)).toHaveLength(0);
      expect(await storedFiles()).toEqual(files);
    });

    it('reads a header only from the file itself, never from memory next to it', () => {
      // A truncated PNG whose IHDR height lies just past its end, inside a larger buffer (as uploads sit
      // in Node's Buffer pool): image-size alone reads on into the neighbour's bytes.
      const backing = Buffer.concat([pngOf(640, 480).subarray(0, 20), Buffer.from([0x09, 0x13, 0x37, 0x42])]);
      expect(imageSize(backing.subarray(0, 20))).toMatchObject({ width: 640, height: 0x09133742 });
      expect(readImageHeader(backing.subarray(0, 20))).toBeNull();
      expect(readImageHeader(pngOf(640, 480))).toEqual({ width: 640, height: 480, type: 'png' });
    });

    it('accepts ordinary JPEG and WebP files and refuses a header whose dimensions cannot be read', async () => {
      const productId = await product();
      expect((await upload(productId, multipart(jpegOf(1920, 1080)))).statusCode).toBe(201);
      expect((await upload(productId, multipart(webpOf(800, 800)))).statusCode).toBe(201);
      for (const damaged of [
        Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(64, 1)]),
        pngOf(640, 480).subarray(0, 20),
        Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x10, 0, 0, 0]), Buffer.from('WEBPXXXX')]),
      ]) {
        const res = await upload(productId, multipart(damaged));
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'file', message: expect.stringMatching(/dimensions cannot be read/) }] });
      }
      expect(await rows(productId)).toHaveLength(2);
    });
  });

  describe('multipart errors are 400 or 415, never 500', () => {
    it('answers a malformed multipart body 400 bad_request (before: 500 internal_error)', async () => {
      const productId = await product();
      const cases: [string, string, string][] = [
        ['no boundary', 'multipart/form-data', 'hello'],
        ['empty boundary', 'multipart/form-data; boundary=', 'hello'],
        ['garbage body', 'multipart/form-data; boundary=xyz', 'this is not multipart at all'],
        ['cut short', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG'],
        ['overlong boundary', `multipart/form-data; boundary=${'b'.repeat(200)}`, 'x'],
      ];
      for (const [name, type, payload] of cases) {
        const res = await upload(productId, { payload, headers: { 'content-type': type } });
        expect({ name, status: res.statusCode }).toEqual({ name, status: 400 });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json()).toMatchObject({ code: 'bad_request' });
      }
      expect(await rows(productId)).toHaveLength(0);
    });

    it('answers other media types 415', async () => {
      const productId = await product();
      for (const type of ['multipart/mixed; boundary=xyz', 'text/plain', 'application/octet-stream', 'image/png']) {
        const res = await upload(productId, { payload: '--xyz--\r\n', headers: { 'content-type': type } });
        expect({ type, status: res.statusCode }).toEqual({ type, status: 415 });
        expect(res.json()).toMatchObject({ code: 'unsupported_media_type' });
      }
    });

    it('documents 409 and the limits on the upload route', async () => {
      const doc = (await ctx.request({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { description?: string; responses: Record<string, unknown> }>> };
      const post = doc.paths['/api/v1/products/{id}/images/']!.post!;
      expect(Object.keys(post.responses)).toContain('409');
      expect(post.description).toMatch(/image_limit_reached/);
      expect(post.description).toMatch(/50 megapixels/);
    });
  });
});

import { randomUUID } from 'node:crypto';
import { decideImageAddition, judgeImage, MAX_IMAGE_PIXELS } from '../../core/catalog.js';
import type { Actor } from '../../core/policy.js';
import { authorizeProductWrite } from '../../core/product.js';
import type { AppContext } from '../context.js';
import { failure, unwrap } from '../../core/errors.js';
import type { DB, Trx } from '../../db/database.js';
import { readImageHeader } from '../media/image-header.js';
import { countProductImages, deleteProductImage, findProductForImages, findProductImage, insertProductImage } from '../repos/product-images.js';
import { inSerializableTx } from '../tx.js';

/**
 * Product images: bytes go to the media store (Cloudinary or local files), a row in product_images
 * records the store's key (never a URL: URLs are built from the key and the base URL when a response
 * is). Only the product's vendor and admins write; another vendor gets 403 when the product is public
 * and 404 when it is not; a deleted product is 404 for everyone. At most MAX_IMAGES_PER_PRODUCT per
 * product, each at most MAX_IMAGE_PIXELS as its header declares.
 */

export interface ImageView {
  id: string;
  url: string;
}

export interface Upload {
  bytes: Buffer;
}

const productNotFound = () => failure({ type: 'not_found', detail: 'No such product' });

async function authorizeImageWrite(db: DB | Trx, actor: Actor, productId: string): Promise<void> {
  const product = await findProductForImages(db, productId);
  if (!product) throw productNotFound();
  unwrap(authorizeProductWrite(actor, { ...product, vendor_user_id: product.owner_user_id }));
}

const fileProblem = (message: string) => failure({ type: 'validation_failed', detail: message, errors: [{ path: 'file', message }] });

/**
 * Adds an image. `readUpload` is called only once the caller may write and the product has room for
 * another image, so a refused request never has its file read; it answers null when the request
 * carries no file. The image's dimensions come from its header (never decoded). The count is checked
 * again in the SERIALIZABLE transaction that inserts the row, so concurrent uploads cannot pass the cap.
 */
export async function addProductImage(
  ctx: AppContext,
  actor: Actor,
  productId: string,
  readUpload: () => Promise<Upload | null>,
  baseUrl: string,
): Promise<ImageView> {
  await authorizeImageWrite(ctx.db, actor, productId);
  unwrap(decideImageAddition(await countProductImages(ctx.db, productId)));
  const upload = await readUpload();
  if (!upload) throw failure({ type: 'validation_failed', detail: 'Send the image as the multipart field "file"', errors: [{ path: 'file', message: 'Required' }] });
  const verdict = judgeImage(upload.bytes, readImageHeader(upload.bytes));
  switch (verdict.kind) {
    case 'empty':
      throw fileProblem('The file is empty');
    case 'unsupported':
      throw failure({ type: 'unsupported_media_type', detail: 'Only JPEG, PNG and WebP images are accepted' });
    case 'unreadable':
      throw fileProblem('The image header is damaged or incomplete: its dimensions cannot be read');
    case 'too_many_pixels':
      throw fileProblem(`The image is ${verdict.width}×${verdict.height} pixels; at most ${MAX_IMAGE_PIXELS / 1_000_000} megapixels are accepted`);
  }

  const id = randomUUID();
  const now = ctx.now();
  const stored = await ctx.media.put({ key: `${id}.${verdict.extension}`, bytes: upload.bytes, contentType: verdict.contentType });
  try {
    await inSerializableTx(ctx.db, async (trx) => {
      // The product may have been deleted, or changed hands, or filled up, while the file travelled.
      await authorizeImageWrite(trx, actor, productId);
      unwrap(decideImageAddition(await countProductImages(trx, productId)));
      await insertProductImage(trx, {
        id,
        product_id: productId,
        storage_key: stored.key,
        content_type: verdict.contentType,
        size_bytes: upload.bytes.length,
        created_at: now,
      });
    });
  } catch (error) {
    await ctx.media.remove(stored.key).catch(() => undefined);
    throw error;
  }
  await ctx.cache.bump('products');
  return { id, url: ctx.media.urlOf(stored.key, baseUrl) };
}

/**
 * Removes an image: from the store first, then the row, so a failure at the store leaves the row in
 * place for a retry instead of a row pointing at nothing.
 */
export async function removeProductImage(ctx: AppContext, actor: Actor, productId: string, imageId: string): Promise<void> {
  await authorizeImageWrite(ctx.db, actor, productId);
  const image = await findProductImage(ctx.db, productId, imageId);
  if (!image) throw failure({ type: 'not_found', detail: 'No such image on this product' });
  await ctx.media.remove(image.storage_key);
  await deleteProductImage(ctx.db, image.id);
  await ctx.cache.bump('products');
}

/** Bytes of a locally stored image, for GET /media/<key>; null when there is none. */
export const readLocalMedia = (ctx: AppContext, key: string) => ctx.media.read(key);

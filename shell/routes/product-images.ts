import fastifyMultipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { baseUrl } from '../http/base-url.js';
import { HttpProblem } from '../http/problem.js';
import { bearer, errors, problem } from '../http/schemas.js';
import { addProductImage, readLocalMedia, removeProductImage, type Upload } from '../services/product-images.js';
import { text, uuidInput } from '../shapes/common.js';

export const IMAGE_MAX_BYTES = 5 * 1024 * 1024;
// The whole multipart body: the image plus headers and boundaries.
const UPLOAD_BODY_LIMIT = IMAGE_MAX_BYTES + 64 * 1024;

const imageSchema = z.object({ id: z.uuid(), url: z.url().meta({ description: 'Where the image is served (PUBLIC_URL or the request host for local storage, else Cloudinary)' }) });
const productParams = z.strictObject({ id: uuidInput() });
const imageParams = z.strictObject({ id: uuidInput(), image_id: uuidInput().meta({ description: "The image's id (a UUID, in any letter case)" }) });

/**
 * Runs a step of multipart parsing. The plugin's own errors (FST_*: file too large, too many parts) are
 * mapped by the problem handler; anything else the parser throws (busboy: no boundary, malformed part
 * headers, a truncated body) is the client's malformed body, 400 bad_request, never a 500.
 */
async function parsingMultipart<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (error instanceof HttpProblem || (typeof code === 'string' && code.startsWith('FST_'))) throw error;
    throw new HttpProblem('bad_request', 'The multipart/form-data body is malformed (no boundary, bad part headers or cut short)');
  }
}

/** Reads the one file of a multipart request; null when there is none. */
async function readUpload(request: FastifyRequest): Promise<Upload | null> {
  if (!request.isMultipart()) {
    // No body at all is a missing file; a body of another type is the wrong media type.
    if (request.headers['content-type'] === undefined) return null;
    throw new HttpProblem('unsupported_media_type', 'Send the image as multipart/form-data with the field "file"');
  }
  const part = await parsingMultipart(() => request.file());
  if (!part) return null;
  if (part.fieldname !== 'file') {
    part.file.resume();
    throw new HttpProblem('validation_failed', 'Send the image as the multipart field "file"', { errors: [{ path: 'file', message: 'Required' }] });
  }
  return { bytes: await parsingMultipart(() => part.toBuffer()) };
}

export const productImagesRoutes: RoutePlugin = async (app, ctx) => {
  // Multipart parsing only for these routes: everything else under /api/v1 stays JSON only.
  await app.register(async (scope) => {
    const images = scope.withTypeProvider<ZodTypeProvider>();
    await images.register(fastifyMultipart, {
      limits: { fileSize: IMAGE_MAX_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 6, headerPairs: 100 },
    });

    images.post('/products/:id/images/', {
      bodyLimit: UPLOAD_BODY_LIMIT,
      schema: {
        summary: 'Upload a product image (owner vendor or admin): multipart field "file", JPEG/PNG/WebP by content, at most 5 MB',
        description:
          'At most 10 images per product: an 11th is 409 image_limit_reached (delete one first). The dimensions are read from ' +
          'the image header (never decoded): above 50 megapixels, or a header whose dimensions cannot be read, is 400 ' +
          'validation_failed at file. Bytes that are not JPEG, PNG or WebP are 415; a malformed multipart body (no boundary, ' +
          'bad part headers, cut short) is 400 bad_request. The url is built from PUBLIC_URL (or the validated Host) when answered; ' +
          'only the storage key is stored.',
        operationId: 'uploadProductImage',
        tags: ['products'],
        security: bearer,
        params: productParams,
        consumes: ['multipart/form-data'],
        // Documents the multipart form; the body itself is read as a stream by the handler, not parsed here.
        body: z
          .object({ file: z.string().meta({ format: 'binary', description: 'The image: JPEG, PNG or WebP (judged by its bytes), at most 5 MB' }) })
          .nullish(),
        response: {
          201: imageSchema.describe('The new image'),
          ...errors(401, 403, 404, 413, 415, 503),
          400: problem(['validation_failed', 'bad_request']),
          409: problem(['image_limit_reached']),
        },
      },
      onRequest: images.requireRole('vendor', 'admin'),
      // A JSON (or any non-multipart) body would otherwise reach the documenting schema and answer 400.
      preValidation: async (request) => {
        if (request.headers['content-type'] !== undefined && !request.isMultipart()) {
          throw new HttpProblem('unsupported_media_type', 'Send the image as multipart/form-data with the field "file"');
        }
      },
      handler: async (request, reply) => {
        const base = baseUrl(request, ctx.config.PUBLIC_URL);
        const image = await addProductImage(ctx, caller(request), request.params.id, () => readUpload(request), base);
        return reply.code(201).send(image);
      },
    });

    images.delete('/products/:id/images/:image_id/', {
      schema: {
        summary: 'Delete a product image (owner vendor or admin); it is removed from storage too',
        description: 'Another vendor, and customers, are refused; an image of another product is 404.',
        operationId: 'deleteProductImage',
        tags: ['products'],
        security: bearer,
        params: imageParams,
        response: { 204: z.null().describe('Deleted'), ...errors(400, 401, 403, 404, 503) },
      },
      onRequest: images.requireRole('vendor', 'admin'),
      handler: async (request, reply) => {
        await removeProductImage(ctx, caller(request), request.params.id, request.params.image_id);
        return reply.code(204).send(null);
      },
    });

    // Only used when images are stored locally (no CLOUDINARY_URL): the API serves the files itself.
    images.get('/media/:key', {
      schema: {
        summary: 'A locally stored product image (development / single-node setups without Cloudinary)',
        description: 'Served with a year-long immutable Cache-Control; the URL comes from an image\'s url field. An unknown key is 404.',
        operationId: 'getMedia',
        tags: ['products'],
        security: [],
        params: z.object({ key: text().max(200).meta({ description: "The image's storage key, the last segment of its url" }) }),
        produces: ['image/jpeg', 'image/png', 'image/webp'],
        response: {
          200: z.string().meta({ format: 'binary', description: 'The image bytes (image/jpeg, image/png or image/webp)' }),
          ...errors(400, 404),
        },
      },
      handler: async (request, reply) => {
        const media = await readLocalMedia(ctx, request.params.key);
        if (!media) throw new HttpProblem('not_found', 'No such media');
        return reply
          .type(media.contentType)
          .header('Cache-Control', 'public, max-age=31536000, immutable')
          .header('Content-Disposition', 'inline')
          // Storefronts on other origins embed these images; helmet's default same-origin policy would block them.
          .header('Cross-Origin-Resource-Policy', 'cross-origin')
          .header('Content-Security-Policy', "default-src 'none'; sandbox")
          // A Buffer skips the serializer; the schema above only documents it.
          .send(media.bytes as unknown as string);
      },
    });
  });
};

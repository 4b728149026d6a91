import fastifyMultipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { HttpProblem } from '../http/problem.js';
import { bearer, errors } from '../http/schemas.js';
import { addProductImage, readLocalMedia, removeProductImage, type Upload } from '../services/product-images.js';

export const IMAGE_MAX_BYTES = 5 * 1024 * 1024;
// The whole multipart body: the image plus headers and boundaries.
const UPLOAD_BODY_LIMIT = IMAGE_MAX_BYTES + 64 * 1024;

const imageSchema = z.object({ id: z.uuid(), url: z.url() });
const productParams = z.strictObject({ id: z.uuid() });
const imageParams = z.strictObject({ id: z.uuid(), image_id: z.uuid() });

/** Reads the one file of a multipart request; null when there is none. */
async function readUpload(request: FastifyRequest): Promise<Upload | null> {
  if (!request.isMultipart()) {
    // No body at all is a missing file; a body of another type is the wrong media type.
    if (request.headers['content-type'] === undefined) return null;
    throw new HttpProblem('unsupported_media_type', 'Send the image as multipart/form-data with the field "file"');
  }
  const part = await request.file();
  if (!part) return null;
  if (part.fieldname !== 'file') {
    part.file.resume();
    throw new HttpProblem('validation_failed', 'Send the image as the multipart field "file"', { errors: [{ path: 'file', message: 'Required' }] });
  }
  return { bytes: await part.toBuffer() };
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
        tags: ['products'],
        security: bearer,
        params: productParams,
        consumes: ['multipart/form-data'],
        // Documents the multipart form; the body itself is read as a stream by the handler, not parsed here.
        body: z
          .object({ file: z.string().meta({ format: 'binary', description: 'The image: JPEG, PNG or WebP (judged by its bytes), at most 5 MB' }) })
          .nullish(),
        response: { 201: imageSchema, ...errors(400, 401, 403, 404, 413, 415, 503) },
      },
      onRequest: images.requireRole('vendor', 'admin'),
      // A JSON (or any non-multipart) body would otherwise reach the documenting schema and answer 400.
      preValidation: async (request) => {
        if (request.headers['content-type'] !== undefined && !request.isMultipart()) {
          throw new HttpProblem('unsupported_media_type', 'Send the image as multipart/form-data with the field "file"');
        }
      },
      handler: async (request, reply) => {
        const baseUrl = ctx.config.PUBLIC_URL ?? `${request.protocol}://${request.host}`;
        const image = await addProductImage(ctx, caller(request), request.params.id, () => readUpload(request), baseUrl);
        return reply.code(201).send(image);
      },
    });

    images.delete('/products/:id/images/:image_id/', {
      schema: {
        summary: 'Delete a product image (owner vendor or admin); it is removed from storage too',
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
        tags: ['products'],
        security: [],
        params: z.object({ key: z.string().max(200) }),
        produces: ['image/jpeg', 'image/png', 'image/webp'],
        response: {
          200: z.string().meta({ format: 'binary', description: 'The image bytes (image/jpeg, image/png or image/webp)' }),
          ...errors(404),
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

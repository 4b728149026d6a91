import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { MAX_UNIT_PRICE } from '../../core/money.js';
import { MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, MAX_STOCK, PRODUCT_ORDERINGS } from '../../core/product.js';
import { lookupCatalogAlias, type CatalogRead } from '../catalog-cache.js';
import type { AppContext } from '../context.js';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { baseUrl } from '../http/base-url.js';
import { canonicalListUrl, pageQuery, pageSchema, spellsCanonicalList } from '../http/pagination.js';
import { bearer, errors, idParams, RESPONSE_HEADERS_KEY } from '../http/schemas.js';
import { createProduct, deleteProduct, getProduct, listProducts, updateProduct } from '../services/products.js';
import { queryInt, text, uuidInput } from '../shapes/common.js';
import { productSchema } from '../shapes/products.js';

const tags = ['products'];

const productFields = {
  name: text().trim().min(1).max(MAX_NAME_LENGTH),
  description: text().max(MAX_DESCRIPTION_LENGTH),
  unit_price: z
    .number()
    .int()
    .min(1)
    .max(MAX_UNIT_PRICE)
    .meta({ description: `Integer minor units, 1 to ${MAX_UNIT_PRICE}: the bound keeps every line and cart total an exact integer` }),
  stock: z.number().int().min(0).max(MAX_STOCK),
  category_id: uuidInput().meta({ description: 'An existing category; an unknown id is 400 validation_failed at category_id' }),
  is_active: z.boolean(),
  vendor_id: uuidInput().meta({ description: 'Admins only (required for them on create); anyone else sending it gets 403 forbidden' }),
};

const createBody = z
  .strictObject({
    ...productFields,
    description: productFields.description.optional(),
    is_active: productFields.is_active.default(true),
    vendor_id: productFields.vendor_id.optional(),
  })
  .meta({
    examples: [{ name: 'Brass desk lamp', description: 'Hand-finished brass, 40 cm', unit_price: 4500, stock: 12, category_id: '0f8e2d4c-6b1a-4c3e-9d7f-5a2b8c1e4d60' }],
  });

const updateBody = z
  .strictObject(productFields)
  .partial()
  .meta({ examples: [{ unit_price: 3900, stock: 20 }] });

// A category given by id is looked up (and cached) under the id as stored: lower case.
const uuidShape = z.uuid();
const lowerCaseUuid = (value: string) => (uuidShape.safeParse(value).success ? value.toLowerCase() : value);

const listQuery = z.object({
  ...pageQuery,
  category: text().trim().min(1).max(200).overwrite(lowerCaseUuid).optional().meta({ description: 'Category id or slug; an unknown one matches nothing' }),
  vendor: uuidInput().optional().meta({ description: 'Vendor id' }),
  q: text().max(200).optional().meta({ description: 'Case-insensitive substring of name or description; empty means no search' }),
  min_price: queryInt(0).optional().meta({ description: 'Inclusive, minor units, in decimal digits' }),
  max_price: queryInt(0).optional().meta({ description: 'Inclusive, minor units, in decimal digits; below min_price is 400' }),
  in_stock: z.enum(['true', 'false']).optional().meta({ description: '"true": only stock > 0; "false" (or absent): no stock filter' }),
  ordering: z
    .enum(PRODUCT_ORDERINGS)
    .default('-created_at')
    .meta({ description: 'Sort by created_at, price or name; a leading "-" sorts descending (default -created_at, newest first)' }),
});

/** The list parameters that may be left out of a canonical spelling: their defaults. */
const LIST_DEFAULTS = { ordering: listQuery.shape.ordering.def.defaultValue, limit: pageQuery.limit.def.defaultValue };

/** Catalog reads say whether they came from the cache (X-Cache). */
const cachedRead = <T extends z.ZodType>(schema: T, description: string) => schema.meta({ description, [RESPONSE_HEADERS_KEY]: ['X-Cache'] });

/** Answers a catalog read: a hit is the stored JSON as is, a miss goes through the response schema. */
function sendCatalogRead<T>(reply: FastifyReply, read: CatalogRead<T>) {
  reply.header('X-Cache', read.hit ? 'hit' : 'miss');
  if (read.hit) return reply.type('application/json; charset=utf-8').send(read.json);
  return reply.send(read.body);
}

/**
 * The alias of an anonymous catalog read: the route, and the request as spelled (scheme and Host as the
 * links would be built from them, raw path and query). Null for a caller with an Authorization header,
 * who may see more than the public view. Nothing here is validated: an alias is only ever stored by an
 * answered read (readThroughCatalog), and only for a canonical spelling of it (spellsCanonicalList), so a
 * request the long way would refuse never finds one, and junk parameters never make one.
 */
function aliasOf(request: FastifyRequest, view: string, publicUrl: string | undefined): string | null {
  if (request.headers.authorization !== undefined) return null;
  return `${view} ${publicUrl ?? `${request.protocol}://${request.host}`} ${request.url}`;
}

/** Sends a repeated anonymous read from the cache before any parsing (lookupCatalogAlias); else goes on. */
function answerFromAlias(ctx: AppContext, view: string): onRequestAsyncHookHandler {
  return async (request, reply) => {
    const alias = aliasOf(request, view, ctx.config.PUBLIC_URL);
    const json = alias === null ? null : await lookupCatalogAlias(ctx.cache, alias);
    if (json !== null) await reply.header('X-Cache', 'hit').type('application/json; charset=utf-8').send(json);
  };
}

export const productsRoutes: RoutePlugin = (app, ctx) => {
  app.get('/products/', {
    schema: {
      summary: 'List the public catalog: active products of active vendors, filtered and ordered, cursor-paginated',
      description:
        'The same list for every caller (owners see their inactive products only by id). An unknown category or vendor matches nothing. ' +
        'Responses are cached for up to 60 s and invalidated by every catalog write; the X-Cache header says hit or miss. ' +
        'Query parameters not listed here are ignored: they change neither the answer nor its cache entry, and page links carry only the listed ones.',
      operationId: 'listProducts',
      tags,
      security: [],
      querystring: listQuery,
      response: { 200: cachedRead(pageSchema(productSchema), 'A page of products'), ...errors(400) },
    },
    onRequest: answerFromAlias(ctx, 'list'),
    handler: async (request, reply) => {
      const { category, vendor, q, min_price, max_price, in_stock, ordering, limit, cursor } = request.query;
      const search = q?.trim() || undefined;
      const query = { category, vendor, q: search, min_price, max_price, in_stock: in_stock === 'true', ordering, limit, cursor };
      // The list's URL (and so its page links and its cache key) comes from the parsed, normalised query
      // alone: unknown parameters, spellings like limit=020 or q=%20lamp, and the request-target add nothing.
      const base = baseUrl(request, ctx.config.PUBLIC_URL);
      const params = { category, vendor, q: search, min_price, max_price, in_stock: query.in_stock ? 'true' : undefined, ordering, limit, cursor };
      const path = request.routeOptions.url ?? '/api/v1/products/';
      const url = canonicalListUrl(base, path, params);
      const canonical = spellsCanonicalList(request.url, path, params, LIST_DEFAULTS);
      const read = await listProducts(ctx, { listUrl: url, baseUrl: base }, query, canonical ? aliasOf(request, 'list', ctx.config.PUBLIC_URL) : null);
      return sendCatalogRead(reply, read);
    },
  });

  app.get('/products/:id/', {
    schema: {
      summary: 'One product: public when active (and its vendor and the vendor\'s user active); the owner vendor and admins also see inactive ones',
      description:
        'A deleted product is 404 for everyone, admins included. A bearer token is optional; an invalid one is 401. ' +
        'Only the public view is cached (X-Cache: hit|miss); owner and admin views of hidden products never are.',
      tags,
      // Anonymous, or a bearer token to see one's own inactive products.
      operationId: 'getProduct',
      security: [{}, ...bearer],
      params: idParams,
      response: { 200: cachedRead(productSchema, 'The product'), ...errors(400, 401, 404) },
    },
    onRequest: [answerFromAlias(ctx, 'detail'), app.identify],
    handler: async (request, reply) => {
      // Only the product's own URL (lower-case id, no query) gets an alias.
      const canonical = request.url === (request.routeOptions.url ?? '').replace(':id', request.params.id);
      const read = await getProduct(ctx, request.auth, request.params.id, baseUrl(request, ctx.config.PUBLIC_URL), canonical ? aliasOf(request, 'detail', ctx.config.PUBLIC_URL) : null);
      return sendCatalogRead(reply, read);
    },
  });

  app.post('/products/', {
    schema: {
      summary: 'Create a product: a vendor for their own profile, or an admin for vendor_id',
      description:
        'A vendor without a vendor profile, or a vendor sending vendor_id, is 403. An admin must send an existing vendor_id. ' +
        'An unknown category_id (or vendor_id) is 400 validation_failed at that field.',
      operationId: 'createProduct',
      tags,
      security: bearer,
      body: createBody,
      response: { 201: productSchema.describe('The new product'), ...errors(400, 401, 403) },
    },
    onRequest: app.requireRole('vendor', 'admin'),
    handler: async (request, reply) => {
      const product = await createProduct(ctx, caller(request), request.body, baseUrl(request, ctx.config.PUBLIC_URL));
      return reply.code(201).send(product);
    },
  });

  app.patch('/products/:id/', {
    schema: {
      summary: 'Change a product: owner vendor or admin; vendor_id is admin-only',
      description:
        'Another vendor gets 403 for a publicly visible product and 404 for a hidden one; customers 403. A deleted product is 404. ' +
        'An empty body answers the product unchanged.',
      operationId: 'updateProduct',
      tags,
      security: bearer,
      params: idParams,
      body: updateBody,
      response: { 200: productSchema.describe('The product as changed'), ...errors(400, 401, 403, 404, 503) },
    },
    onRequest: app.requireRole('vendor', 'admin'),
    handler: async (request) => updateProduct(ctx, caller(request), request.params.id, request.body, baseUrl(request, ctx.config.PUBLIC_URL)),
  });

  app.delete('/products/:id/', {
    schema: {
      summary: 'Soft-delete a product: owner vendor or admin; past orders keep their lines',
      description: 'Deleting an already deleted product is 404. Same visibility rules as PATCH.',
      operationId: 'deleteProduct',
      tags,
      security: bearer,
      params: idParams,
      response: { 204: z.null().describe('Deleted'), ...errors(400, 401, 403, 404, 503) },
    },
    onRequest: app.requireRole('vendor', 'admin'),
    handler: async (request, reply) => {
      await deleteProduct(ctx, caller(request), request.params.id);
      return reply.code(204).send(null);
    },
  });
};

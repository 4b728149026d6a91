import { z } from 'zod';
import type { RoutePlugin } from './plugin.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, errors, idParams, problem } from '../http/schemas.js';
import { changeCategory, createCategory, getCategory, listCategories, removeCategory } from '../services/categories.js';
import { categorySchema } from '../shapes/categories.js';
import { text } from '../shapes/common.js';

const name = text().trim().min(1).max(120);
const slug = text()
  .min(1)
  .max(100)
  .describe('Lower-case letters (any script), digits and single hyphens; derived from name when absent or when only the name changes');
const description = text().max(5000);

export const categoriesRoutes: RoutePlugin = (app, ctx) => {
  const adminOnly = app.requireRole('admin');

  app.get('/categories/', {
    schema: {
      summary: 'List categories',
      operationId: 'listCategories',
      tags: ['categories'],
      security: [],
      querystring: z.object({ ...pageQuery }),
      response: { 200: pageSchema(categorySchema).describe('A page of categories'), ...errors(400) },
    },
    handler: async (request) => listCategories(ctx, listUrl(request, ctx.config.PUBLIC_URL), request.query),
  });

  app.get('/categories/:id/', {
    schema: {
      summary: 'Get a category',
      operationId: 'getCategory',
      tags: ['categories'],
      security: [],
      params: idParams,
      response: { 200: categorySchema.describe('The category'), ...errors(400, 404) },
    },
    handler: async (request) => getCategory(ctx, request.params.id),
  });

  app.post('/categories/', {
    schema: {
      summary: 'Create a category (admin)',
      description: 'Without a slug, one is derived from the name. A slug another category has is 409 slug_taken.',
      operationId: 'createCategory',
      tags: ['categories'],
      security: bearer,
      body: z
        .strictObject({ name, slug: slug.optional(), description: description.optional() })
        .meta({ examples: [{ name: 'Desk lamps', description: 'Lamps for desks and bedside tables' }] }),
      response: { 201: categorySchema.describe('The new category'), ...errors(400, 401, 403, 503), 409: problem(['slug_taken']) },
    },
    onRequest: adminOnly,
    handler: async (request, reply) => reply.code(201).send(await createCategory(ctx, request.body)),
  });

  app.patch('/categories/:id/', {
    schema: {
      summary: 'Update a category (admin); a new name without a slug re-derives the slug',
      description: 'Only the fields sent change. A slug another category has is 409 slug_taken.',
      operationId: 'updateCategory',
      tags: ['categories'],
      security: bearer,
      params: idParams,
      body: z
        .strictObject({ name: name.optional(), slug: slug.optional(), description: description.optional() })
        .meta({ examples: [{ name: 'Table lamps', slug: 'table-lamps' }] }),
      response: { 200: categorySchema.describe('The category as changed'), ...errors(400, 401, 403, 404, 503), 409: problem(['slug_taken']) },
    },
    onRequest: adminOnly,
    handler: async (request) => changeCategory(ctx, request.params.id, request.body),
  });

  app.delete('/categories/:id/', {
    schema: {
      summary: 'Delete a category (admin); refused while any product, even a deleted one, belongs to it',
      description: 'Deleted products are kept for order history, so they hold on to their category too: 409 category_in_use.',
      operationId: 'deleteCategory',
      tags: ['categories'],
      security: bearer,
      params: idParams,
      response: { 204: z.null().describe('Deleted'), ...errors(400, 401, 403, 404, 503), 409: problem(['category_in_use']) },
    },
    onRequest: adminOnly,
    handler: async (request, reply) => {
      await removeCategory(ctx, request.params.id);
      return reply.code(204).send(null);
    },
  });
};

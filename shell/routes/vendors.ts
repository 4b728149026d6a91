import { z } from 'zod';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, email, errors, idParams, problem } from '../http/schemas.js';
import { changeVendor, createVendor, deactivateVendor, getVendor, listVendors } from '../services/vendors.js';
import { vendorSchema } from '../shapes/vendors.js';
import { text, uuidInput } from '../shapes/common.js';

const businessName = text().trim().min(1).max(200);
const description = text().max(5000);

export const vendorsRoutes: RoutePlugin = (app, ctx) => {
  // Public reads, but a caller who sends a token is identified: owners and admins see deactivated profiles.
  app.post('/vendors/', {
    schema: {
      summary: 'Create a vendor profile (vendors for themselves; admins for a vendor user via user_id)',
      description: 'A user has at most one vendor profile: a second is 409 vendor_exists. Customers, and a vendor sending user_id, are 403; an admin must send the user_id of a user with the role vendor (else 400 validation_failed at user_id).',
      operationId: 'createVendor',
      tags: ['vendors'],
      security: bearer,
      body: z
        .strictObject({
          business_name: businessName,
          description: description.optional(),
          support_email: email.nullable().optional(),
          user_id: uuidInput().optional().describe('Admins only: the vendor user who gets the profile'),
        })
        .meta({ examples: [{ business_name: 'Lagos Lamps', description: 'Handmade brass lamps', support_email: 'help@lagoslamps.example' }] }),
      response: { 201: vendorSchema.describe('The new vendor profile'), ...errors(400, 401, 403, 503), 409: problem(['vendor_exists']) },
    },
    onRequest: app.requireRole('vendor', 'admin'),
    handler: async (request, reply) => reply.code(201).send(await createVendor(ctx, caller(request), request.body)),
  });

  app.get('/vendors/', {
    schema: {
      summary: 'List vendor profiles (active ones; admins see all)',
      tags: ['vendors'],
      // Anonymous, or with a token (admins then also see deactivated profiles).
      security: [{}, ...bearer],
      operationId: 'listVendors',
      querystring: z.object({ ...pageQuery }),
      response: { 200: pageSchema(vendorSchema).describe('A page of vendor profiles'), ...errors(400, 401) },
    },
    onRequest: app.identify,
    handler: async (request) => listVendors(ctx, listUrl(request, ctx.config.PUBLIC_URL), request.auth, request.query),
  });

  app.get('/vendors/:id/', {
    schema: {
      summary: 'Get a vendor profile (a deactivated one only for its owner and admins)',
      tags: ['vendors'],
      security: [{}, ...bearer],
      operationId: 'getVendor',
      params: idParams,
      response: { 200: vendorSchema.describe('The vendor profile'), ...errors(400, 401, 404) },
    },
    onRequest: app.identify,
    handler: async (request) => getVendor(ctx, request.auth, request.params.id),
  });

  app.patch('/vendors/:id/', {
    schema: {
      summary: 'Update a vendor profile (owner or admin; is_active is admin-only)',
      description: 'Only the fields sent change; support_email null clears it.',
      operationId: 'updateVendor',
      tags: ['vendors'],
      security: bearer,
      params: idParams,
      body: z
        .strictObject({
          business_name: businessName.optional(),
          description: description.optional(),
          support_email: email.nullable().optional(),
          is_active: z.boolean().optional().describe('Admins only'),
        })
        .meta({ examples: [{ description: 'Handmade brass and copper lamps', support_email: null }] }),
      response: { 200: vendorSchema.describe('The vendor profile as changed'), ...errors(400, 401, 403, 404, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request) => changeVendor(ctx, caller(request), request.params.id, request.body),
  });

  app.delete('/vendors/:id/', {
    schema: {
      summary: 'Deactivate a vendor profile and hide its products (owner or admin); orders stay intact',
      description: 'The profile and its products leave the public catalog; the owner and admins still see them.',
      operationId: 'deactivateVendor',
      tags: ['vendors'],
      security: bearer,
      params: idParams,
      response: { 204: z.null().describe('Deactivated'), ...errors(400, 401, 403, 404, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request, reply) => {
      await deactivateVendor(ctx, caller(request), request.params.id);
      return reply.code(204).send(null);
    },
  });
};

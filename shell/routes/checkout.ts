import { z } from 'zod';
import type { RoutePlugin } from '../context.js';
import { caller } from '../http/auth.js';
import { sendOutcome } from '../http/idempotency.js';
import { bearer, currency, emptyBody, errors, idempotencyHeaders, money, timestamp } from '../http/schemas.js';
import { cancelCheckout, confirmCheckout, getCheckout, serializeCheckout, updateCheckout } from '../services/checkout.js';

const shippingAddress = z.strictObject({
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().max(200).optional(),
  city: z.string().trim().min(1).max(100),
  region: z.string().trim().max(100).optional(),
  postal_code: z.string().trim().min(1).max(20),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US')
    .describe('ISO 3166-1 alpha-2'),
});

const checkoutItemSchema = z.object({ product_id: z.uuid(), name: z.string(), unit_price: money, quantity: z.number().int(), line_total: money });

const checkoutSchema = z.object({
  id: z.uuid(),
  cart_id: z.uuid(),
  status: z.enum(['open', 'confirmed', 'completed', 'expired']),
  items: z.array(checkoutItemSchema).describe('The live cart while open or expired; the frozen lines while confirmed'),
  subtotal: money,
  total: money.describe('Equals subtotal (no shipping or tax yet)'),
  currency,
  shipping_address: shippingAddress.nullable(),
  contact_phone: z.string().nullable(),
  problems: z
    .array(z.object({ code: z.string(), product_id: z.uuid().nullable(), detail: z.string() }))
    .describe('Everything that would block confirmation (empty unless open or expired)'),
  confirmed_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
});

export const checkoutRoutes: RoutePlugin = (app, ctx) => {
  const customerOnly = app.requireRole('customer');

  app.get('/checkout/', {
    schema: {
      summary: "The checkout of the caller's active cart, created on first access",
      tags: ['checkout'],
      security: bearer,
      response: { 200: checkoutSchema, ...errors(401, 403, 503) },
    },
    onRequest: customerOnly,
    handler: async (request) => serializeCheckout(await getCheckout(ctx, caller(request).id)),
  });

  app.patch('/checkout/update/', {
    schema: {
      summary: 'Set the shipping address and contact phone (while open or expired; an expired checkout reopens)',
      tags: ['checkout'],
      security: bearer,
      body: z.strictObject({ shipping_address: shippingAddress.optional(), contact_phone: z.string().trim().min(3).max(40).optional() }),
      response: { 200: checkoutSchema, ...errors(400, 401, 403, 409, 503) },
    },
    onRequest: customerOnly,
    handler: async (request) => serializeCheckout(await updateCheckout(ctx, caller(request).id, request.body)),
  });

  app.post('/checkout/confirm/', {
    schema: {
      summary: 'Confirm the checkout: items and prices frozen until expires_at (Idempotency-Key honoured)',
      tags: ['checkout'],
      security: bearer,
      headers: idempotencyHeaders,
      body: emptyBody,
      response: { 200: checkoutSchema, ...errors(400, 401, 403, 409, 422, 503) },
    },
    onRequest: customerOnly,
    handler: async (request, reply) => sendOutcome(reply, await confirmCheckout(ctx, request, caller(request).id)),
  });

  app.post('/checkout/cancel/', {
    schema: {
      summary: 'Cancel the confirmation: the checkout is open and the cart editable again',
      tags: ['checkout'],
      security: bearer,
      body: emptyBody,
      response: { 200: checkoutSchema, ...errors(400, 401, 403, 409, 503) },
    },
    onRequest: customerOnly,
    handler: async (request) => serializeCheckout(await cancelCheckout(ctx, caller(request).id)),
  });
};

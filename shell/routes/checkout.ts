import { z } from 'zod';
import { MAX_CART_LINES } from '../../core/cart.js';
import { isCountryCode } from '../../core/country.js';
import { MAX_UNIT_PRICE } from '../../core/money.js';
import { MAX_LINE_QUANTITY } from '../../core/stock.js';
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
    .refine(isCountryCode, 'must be an officially assigned ISO 3166-1 alpha-2 code in uppercase, such as US')
    .describe('ISO 3166-1 alpha-2, uppercase, officially assigned (ZZ, XK, EU, UK are refused)'),
});

// An address is answered as stored: the country rule guards writes, and a reply must never fail on old data.
const storedShippingAddress = shippingAddress.extend({ country: z.string().describe('ISO 3166-1 alpha-2') });

const checkoutItemSchema = z.object({ product_id: z.uuid(), name: z.string(), unit_price: money, quantity: z.number().int(), line_total: money });

const checkoutSchema = z.object({
  id: z.uuid(),
  cart_id: z.uuid(),
  status: z.enum(['open', 'confirmed', 'completed', 'expired']),
  items: z.array(checkoutItemSchema).describe('The live cart while open or expired; the frozen lines while confirmed'),
  subtotal: money,
  total: money.describe('Equals subtotal (no shipping or tax yet)'),
  currency,
  shipping_address: storedShippingAddress.nullable(),
  contact_phone: z.string().nullable(),
  problems: z
    .array(z.object({ code: z.string(), product_id: z.uuid().nullable(), detail: z.string() }))
    .describe('Everything that would block confirmation (empty unless open or expired)'),
  confirmed_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
});

const moneyBounds =
  `Money is integer minor units. A cart holds at most ${MAX_CART_LINES} different products of at most ${MAX_LINE_QUANTITY} units each, ` +
  `and a unit price is at most ${MAX_UNIT_PRICE}, so every line_total, subtotal and total is an exact integer.`;

export const checkoutRoutes: RoutePlugin = (app, ctx) => {
  const customerOnly = app.requireRole('customer');

  app.get('/checkout/', {
    schema: {
      summary: "The checkout of the caller's active cart, created on first access",
      description: moneyBounds,
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
      description:
        'shipping_address.country must be an officially assigned ISO 3166-1 alpha-2 code in uppercase (e.g. US, NG, DE); ' +
        'anything else (zz, ZZ, XK, EU, UK, USA) is 400 validation_failed at shipping_address.country.',
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

import { z } from 'zod';
import { MAX_CART_LINES } from '../../core/cart.js';
import { MAX_UNIT_PRICE } from '../../core/money.js';
import { MAX_LINE_QUANTITY } from '../../core/stock.js';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { idempotencyOf, sendOutcome } from '../http/idempotency.js';
import { bearer, emptyBody, errors, idempotencyHeaders, problem } from '../http/schemas.js';
import { cancelCheckout, confirmCheckout, getCheckout, updateCheckout } from '../services/checkout.js';
import { checkoutSchema, shippingAddressSchema } from '../shapes/checkout.js';
import { text } from '../shapes/common.js';

const moneyBounds =
  `Money is integer minor units. A cart holds at most ${MAX_CART_LINES} different products of at most ${MAX_LINE_QUANTITY} units each, ` +
  `and a unit price is at most ${MAX_UNIT_PRICE}, so every line_total, subtotal and total is an exact integer.`;

export const checkoutRoutes: RoutePlugin = (app, ctx) => {
  const customerOnly = app.requireRole('customer');

  app.get('/checkout/', {
    schema: {
      summary: "The checkout of the caller's active cart, created on first access",
      description: moneyBounds,
      operationId: 'getCheckout',
      tags: ['checkout'],
      security: bearer,
      response: { 200: checkoutSchema.describe('The checkout'), ...errors(401, 403, 503) },
    },
    onRequest: customerOnly,
    handler: async (request) => getCheckout(ctx, caller(request).id),
  });

  app.patch('/checkout/update/', {
    schema: {
      summary: 'Set the shipping address and contact phone (while open or expired; an expired checkout reopens)',
      description:
        'shipping_address.country must be an officially assigned ISO 3166-1 alpha-2 code in uppercase (e.g. US, NG, DE); ' +
        'anything else (zz, ZZ, XK, EU, UK, USA) is 400 validation_failed at shipping_address.country.',
      operationId: 'updateCheckout',
      tags: ['checkout'],
      security: bearer,
      body: z.strictObject({ shipping_address: shippingAddressSchema.optional(), contact_phone: text().trim().min(3).max(40).optional() }).meta({
        examples: [{ shipping_address: { line1: '12 Marina Road', city: 'Lagos', region: 'Lagos', postal_code: '101001', country: 'NG' }, contact_phone: '+234 801 234 5678' }],
      }),
      response: { 200: checkoutSchema.describe('The checkout with the new details'), ...errors(400, 401, 403, 503), 409: problem(['checkout_not_open']) },
    },
    onRequest: customerOnly,
    handler: async (request) => updateCheckout(ctx, caller(request).id, request.body),
  });

  app.post('/checkout/confirm/', {
    schema: {
      summary: 'Confirm the checkout: items and prices frozen until expires_at (Idempotency-Key honoured)',
      operationId: 'confirmCheckout',
      tags: ['checkout'],
      security: bearer,
      headers: idempotencyHeaders,
      body: emptyBody,
      response: {
        200: checkoutSchema.describe('The confirmed checkout (unchanged if it was already confirmed and unexpired)'),
        ...errors(400, 401, 403, 422, 503),
        409: problem(['checkout_not_open', 'cart_empty', 'checkout_incomplete', 'product_unavailable', 'insufficient_stock', 'idempotency_request_in_flight']),
      },
    },
    onRequest: customerOnly,
    handler: async (request, reply) => sendOutcome(reply, await confirmCheckout(ctx, idempotencyOf(request), caller(request).id)),
  });

  app.post('/checkout/cancel/', {
    schema: {
      summary: 'Cancel the confirmation: the checkout is open and the cart editable again',
      operationId: 'cancelCheckout',
      tags: ['checkout'],
      security: bearer,
      body: emptyBody,
      response: { 200: checkoutSchema.describe('The open checkout'), ...errors(400, 401, 403, 503), 409: problem(['checkout_not_confirmed', 'checkout_not_open']) },
    },
    onRequest: customerOnly,
    handler: async (request) => cancelCheckout(ctx, caller(request).id),
  });
};

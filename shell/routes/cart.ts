import { z } from 'zod';
import { MAX_CART_LINES } from '../../core/cart.js';
import { MAX_UNIT_PRICE } from '../../core/money.js';
import { MAX_LINE_QUANTITY } from '../../core/stock.js';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { bearer, errors, idParams, problem } from '../http/schemas.js';
import { addCartItem, changeCartItem, getCart, removeCartItem } from '../services/cart.js';
import { cartItemSchema, cartSchema } from '../shapes/cart.js';
import { uuidInput } from '../shapes/common.js';

const quantity = z.number().int().min(1).max(MAX_LINE_QUANTITY);
// A line is refused while the checkout is confirmed (cart_frozen), or for a product not for sale or short of stock.
const lineRefusals = problem(['cart_frozen', 'product_unavailable', 'insufficient_stock']);

export const cartRoutes: RoutePlugin = (app, ctx) => {
  const customerOnly = app.requireRole('customer');

  app.get('/cart/', {
    schema: {
      summary: "The caller's active cart, created on first access (customers only)",
      description: "Lines show each product's live name and price; status is frozen while the checkout is confirmed and unexpired.",
      operationId: 'getCart',
      tags: ['cart'],
      security: bearer,
      response: { 200: cartSchema.describe('The cart'), ...errors(401, 403, 503) },
    },
    onRequest: customerOnly,
    handler: async (request) => getCart(ctx, caller(request).id),
  });

  app.post('/cart-items/', {
    schema: {
      summary: 'Add a product to the cart: 201 a new line, 200 the merged line when the product is already in the cart',
      description:
        `A cart holds at most ${MAX_CART_LINES} different products; adding a new one beyond that is 400 validation_failed at product_id ` +
        `(merging into an existing line is always allowed). With quantities of 1-${MAX_LINE_QUANTITY} and unit prices of at most ${MAX_UNIT_PRICE} ` +
        'minor units, every line_total and subtotal is an exact integer.',
      operationId: 'addCartItem',
      tags: ['cart'],
      security: bearer,
      body: z.strictObject({ product_id: uuidInput(), quantity }).meta({ examples: [{ product_id: '3b9d7c2e-1f4a-4e6b-8c5d-2a7f9e1b3c40', quantity: 2 }] }),
      response: {
        200: cartItemSchema.describe('Merged into the existing line'),
        201: cartItemSchema.describe('A new line'),
        ...errors(400, 401, 403, 404, 503),
        409: lineRefusals,
      },
    },
    onRequest: customerOnly,
    handler: async (request, reply) => {
      const { created, item } = await addCartItem(ctx, caller(request).id, request.body);
      return reply.code(created ? 201 : 200).send(item);
    },
  });

  app.patch('/cart-items/:id/', {
    schema: {
      summary: "Change a cart line's quantity",
      operationId: 'updateCartItem',
      tags: ['cart'],
      security: bearer,
      params: idParams,
      body: z.strictObject({ quantity }).meta({ examples: [{ quantity: 3 }] }),
      response: { 200: cartItemSchema.describe('The line with its new quantity'), ...errors(400, 401, 403, 404, 503), 409: lineRefusals },
    },
    onRequest: customerOnly,
    handler: async (request) => changeCartItem(ctx, caller(request).id, request.params.id, request.body.quantity),
  });

  app.delete('/cart-items/:id/', {
    schema: {
      summary: 'Remove a line from the cart',
      operationId: 'removeCartItem',
      tags: ['cart'],
      security: bearer,
      params: idParams,
      response: { 204: z.null().describe('Removed'), ...errors(400, 401, 403, 404, 503), 409: problem(['cart_frozen']) },
    },
    onRequest: customerOnly,
    handler: async (request, reply) => {
      await removeCartItem(ctx, caller(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  });
};

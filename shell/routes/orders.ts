import { z } from 'zod';
import { ORDER_STATUSES, type OrderStatus } from '../../core/order.js';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { idempotencyOf, sendOutcome } from '../http/idempotency.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, emptyBody, errors, idempotencyHeaders, idParams, problem } from '../http/schemas.js';
import { cancelOrder, createOrder, getOrder, listOrders } from '../services/orders.js';
import { orderSchema } from '../shapes/orders.js';

export const ordersRoutes: RoutePlugin = (app, ctx) => {
  app.post('/orders/create/', {
    schema: {
      summary: "Create the order from the caller's confirmed checkout (Idempotency-Key honoured)",
      operationId: 'createOrder',
      tags: ['orders'],
      security: bearer,
      headers: idempotencyHeaders,
      body: emptyBody,
      response: {
        201: orderSchema.describe('The new order, pending payment until payment_due_by'),
        ...errors(400, 401, 403, 422, 503),
        409: problem(['checkout_not_confirmed', 'checkout_expired', 'product_unavailable', 'insufficient_stock', 'idempotency_request_in_flight']),
      },
    },
    onRequest: app.requireRole('customer'),
    handler: async (request, reply) => sendOutcome(reply, await createOrder(ctx, idempotencyOf(request), caller(request).id)),
  });

  app.get('/orders/', {
    schema: {
      summary: 'List orders (customer: own; vendor: those holding its products, its lines only; admin: all), newest first',
      description: 'Cursor-paginated; filter by status. A vendor sees only its own lines of each order, and subtotal is the sum of those lines.',
      operationId: 'listOrders',
      tags: ['orders'],
      security: bearer,
      querystring: z.object({
        ...pageQuery,
        status: z
          .enum(ORDER_STATUSES as [OrderStatus, ...OrderStatus[]])
          .optional()
          .meta({ description: 'Only orders in this status' }),
      }),
      response: { 200: pageSchema(orderSchema).describe('A page of orders'), ...errors(400, 401, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request) => listOrders(ctx, listUrl(request, ctx.config.PUBLIC_URL), caller(request), request.query),
  });

  app.get('/orders/:id/', {
    schema: {
      summary: 'One order (same visibility as the list; others answer 404)',
      description: "An order the caller cannot see is 404, the same as an id nobody has; a vendor sees only its own lines.",
      operationId: 'getOrder',
      tags: ['orders'],
      security: bearer,
      params: idParams,
      response: { 200: orderSchema.describe('The order'), ...errors(400, 401, 404, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request) => getOrder(ctx, caller(request), request.params.id),
  });

  app.post('/orders/:id/cancel/', {
    schema: {
      summary: 'Cancel an order pending payment (owner customer or admin); its stock is returned and its pending payments cancelled',
      operationId: 'cancelOrder',
      tags: ['orders'],
      security: bearer,
      params: idParams,
      body: emptyBody,
      response: { 200: orderSchema.describe('The cancelled order'), ...errors(400, 401, 403, 404, 503), 409: problem(['order_not_cancellable']) },
    },
    onRequest: app.requireRole('customer', 'admin'),
    handler: async (request) => cancelOrder(ctx, caller(request), request.params.id),
  });
};

import { z } from 'zod';
import { ORDER_STATUSES, type OrderStatus } from '../../core/order.js';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { idempotencyOf, sendOutcome } from '../http/idempotency.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, emptyBody, errors, idempotencyHeaders, idParams } from '../http/schemas.js';
import { cancelOrder, createOrder, getOrder, listOrders } from '../services/orders.js';
import { orderSchema } from '../shapes/orders.js';

export const ordersRoutes: RoutePlugin = (app, ctx) => {
  app.post('/orders/create/', {
    schema: {
      summary: "Create the order from the caller's confirmed checkout (Idempotency-Key honoured)",
      tags: ['orders'],
      security: bearer,
      headers: idempotencyHeaders,
      body: emptyBody,
      response: { 201: orderSchema, ...errors(400, 401, 403, 409, 422, 503) },
    },
    onRequest: app.requireRole('customer'),
    handler: async (request, reply) => sendOutcome(reply, await createOrder(ctx, idempotencyOf(request), caller(request).id)),
  });

  app.get('/orders/', {
    schema: {
      summary: 'List orders (customer: own; vendor: those holding its products, its lines only; admin: all), newest first',
      tags: ['orders'],
      security: bearer,
      querystring: z.object({ ...pageQuery, status: z.enum(ORDER_STATUSES as [OrderStatus, ...OrderStatus[]]).optional() }),
      response: { 200: pageSchema(orderSchema), ...errors(400, 401, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request) => listOrders(ctx, listUrl(request, ctx.config.PUBLIC_URL), caller(request), request.query),
  });

  app.get('/orders/:id/', {
    schema: {
      summary: 'One order (same visibility as the list; others answer 404)',
      tags: ['orders'],
      security: bearer,
      params: idParams,
      response: { 200: orderSchema, ...errors(400, 401, 404, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request) => getOrder(ctx, caller(request), request.params.id),
  });

  app.post('/orders/:id/cancel/', {
    schema: {
      summary: 'Cancel an order pending payment (owner customer or admin); its stock is returned and its pending payments cancelled',
      tags: ['orders'],
      security: bearer,
      params: idParams,
      body: emptyBody,
      response: { 200: orderSchema, ...errors(400, 401, 403, 404, 409, 503) },
    },
    onRequest: app.requireRole('customer', 'admin'),
    handler: async (request) => cancelOrder(ctx, caller(request), request.params.id),
  });
};

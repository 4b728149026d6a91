import { z } from 'zod';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, emptyBody, errors, idParams } from '../http/schemas.js';
import { listNotifications, markNotificationRead } from '../services/notifications.js';
import { notificationSchema } from '../shapes/notifications.js';

// Notifications are a user's private data: never stored by a shared cache.
const NO_STORE = 'no-store';

export const notificationsRoutes: RoutePlugin = (app, ctx) => {
  app.get('/notifications/', {
    schema: {
      summary: "List the caller's notifications, newest first",
      description: 'Any authenticated user; only their own notifications. Ordered by created_at, then id, newest first; cursor-paginated.',
      operationId: 'listNotifications',
      tags: ['notifications'],
      security: bearer,
      querystring: z.object(pageQuery),
      response: { 200: pageSchema(notificationSchema).describe('A page of notifications'), ...errors(400, 401, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request, reply) => {
      const page = await listNotifications(ctx, listUrl(request, ctx.config.PUBLIC_URL), caller(request), request.query);
      return reply.header('Cache-Control', NO_STORE).send(page);
    },
  });

  app.post('/notifications/:id/read/', {
    schema: {
      summary: "Mark one of your notifications read (another user's answers 404; a read one is returned unchanged)",
      description: 'Sets read_at the first time; marking it read again answers it unchanged, read_at included.',
      operationId: 'markNotificationRead',
      tags: ['notifications'],
      security: bearer,
      params: idParams,
      body: emptyBody,
      response: { 200: notificationSchema.describe('The notification, read'), ...errors(400, 401, 404, 503) },
    },
    onRequest: app.authenticate,
    handler: async (request, reply) => {
      const notification = await markNotificationRead(ctx, caller(request), request.params.id);
      return reply.header('Cache-Control', NO_STORE).send(notification);
    },
  });
};

import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../../core/users.js';
import type { RoutePlugin } from './plugin.js';
import { errors, problem } from '../http/schemas.js';
import { text } from '../shapes/common.js';
import { login, logout, refreshSession } from '../services/auth.js';

const tokenPair = z
  .object({
    access: z.string().meta({ description: 'Access token (JWT); send as `Authorization: Bearer <access>`' }),
    refresh: z.string().meta({ description: 'Opaque refresh token; good for one use at POST /token/refresh/' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until the access token expires' }),
  })
  .meta({ id: 'TokenPair' });

const invalidCredentials = problem(['invalid_credentials'], 'Unknown email, wrong password or deactivated account: one answer for all (`invalid_credentials`)');
const invalidRefreshToken = problem(['invalid_refresh_token'], 'Unknown, expired, revoked or reused refresh token (`invalid_refresh_token`)');

const refreshBody = z
  .strictObject({ refresh: text().min(1).max(512).meta({ description: 'The refresh token from POST /login/ or the last POST /token/refresh/' }) })
  .meta({ examples: [{ refresh: 'q0ZB3m1YtV8c2X7rN4pL9sJ6hK5wD1eF0gA2bC3dE4f' }] });

export const authRoutes: RoutePlugin = (app, ctx) => {
  const sign = app.signAccessToken;

  app.post('/login/', {
    schema: {
      summary: 'Log in with email and password; returns an access and a refresh token',
      description:
        'An unknown email, a wrong password and a deactivated account all answer 401 invalid_credentials, after the same hashing work.',
      operationId: 'login',
      tags: ['auth'],
      security: [],
      body: z
        .strictObject({
          email: text().trim().min(1).max(254).meta({ format: 'email' }),
          password: text().min(1).max(PASSWORD_MAX_LENGTH),
        })
        .meta({ examples: [{ email: 'ada@example.com', password: 'correct-horse-battery' }] }),
      response: { 200: tokenPair.describe('Logged in: an access token and a refresh token'), ...errors(400, 415, 503), 401: invalidCredentials },
    },
    handler: async (request) => login(ctx, sign, request.body),
  });

  app.post('/token/refresh/', {
    schema: {
      summary: 'Exchange a refresh token for a new pair; the presented token is spent',
      description:
        'Presenting a spent refresh token again revokes every refresh token of that login (reuse detection) and answers 401 invalid_refresh_token. ' +
        'The new access token carries the user\'s current role.',
      operationId: 'refreshToken',
      tags: ['auth'],
      security: [],
      body: refreshBody,
      response: { 200: tokenPair.describe('A new token pair; the presented refresh token is spent'), ...errors(400, 415, 503), 401: invalidRefreshToken },
    },
    handler: async (request) => refreshSession(ctx, sign, request.body.refresh),
  });

  app.post('/logout/', {
    schema: {
      summary: 'Log out: revoke every refresh token of the login this one belongs to',
      description:
        'Any refresh token this server issued ends its login and answers 204, whatever its state (spent, expired or already logged out), ' +
        'so a retried logout is harmless. A token the server never issued is 401 invalid_refresh_token. Access tokens already issued run out on their own.',
      operationId: 'logout',
      tags: ['auth'],
      security: [],
      body: refreshBody,
      response: { 204: z.null().meta({ description: 'Logged out' }), ...errors(400, 415), 401: invalidRefreshToken },
    },
    handler: async (request, reply) => {
      await logout(ctx, request.body.refresh);
      return reply.code(204).send(null);
    },
  });
};

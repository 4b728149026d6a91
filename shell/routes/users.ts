import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ROLES, type Actor } from '../../core/policy.js';
import { checkPassword, EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../core/users.js';
import type { RoutePlugin } from './plugin.js';
import { caller } from '../http/auth.js';
import { listUrl, pageQuery, pageSchema } from '../http/pagination.js';
import { bearer, errors, idParams, problem } from '../http/schemas.js';
import { deactivateUser, getUser, listUsers, patchUser, signUp } from '../services/users.js';
import { emailText, text } from '../shapes/common.js';
import { userSchema } from '../shapes/users.js';

// Surrounding spaces are dropped before the address is checked; it is stored as given otherwise and
// compared case-insensitively.
const emailField = emailText(EMAIL_MAX_LENGTH);
// The length rule is core's (it counts characters, not UTF-16 units); the document states the same bounds,
// which JSON Schema also counts in characters.
const passwordField = text()
  .superRefine((value, issue) => {
    const checked = checkPassword(value);
    if (!checked.ok) issue.addIssue({ code: 'custom', message: checked.error.detail ?? 'Invalid password' });
  })
  .meta({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
const fullNameField = text().trim().max(FULL_NAME_MAX_LENGTH);
const roleField = z.enum(ROLES);

const signUpBody = z.strictObject({
  email: emailField,
  password: passwordField,
  full_name: fullNameField.optional(),
  role: roleField.optional().meta({ description: 'customer (default) or vendor; admin only when an admin signs the user up' }),
  is_active: z.boolean().optional().meta({ description: 'Admins only' }),
}).meta({ examples: [{ email: 'ada@example.com', password: 'correct-horse-battery', full_name: 'Ada Lovelace', role: 'customer' }] });

const patchBody = z.strictObject({
  full_name: fullNameField.optional(),
  email: emailField.optional(),
  password: passwordField.optional(),
  current_password: text()
    .min(1)
    .max(PASSWORD_MAX_LENGTH)
    .optional()
    .meta({ description: 'Required with `password` when changing your own password; a wrong one is 401 invalid_credentials' }),
  role: roleField.optional().meta({ description: 'Admins only' }),
  is_active: z.boolean().optional().meta({ description: 'Admins only' }),
}).meta({ examples: [{ full_name: 'Ada King', current_password: 'correct-horse-battery', password: 'a-new-long-passphrase' }] });

const actorOf = (request: FastifyRequest): Actor => caller(request);

export const usersRoutes: RoutePlugin = (app, ctx) => {
  app.post('/users/', {
    // An Authorization header, when sent, must be valid: a broken token is 401 rather than a silent
    // anonymous sign-up (an admin whose token expired would otherwise get a confusing 403).
    onRequest: app.identify,
    schema: {
      summary: 'Sign up (public); admins may also create admins and set is_active',
      description:
        'Anyone may sign up as customer (default) or vendor. Asking for role admin or sending is_active is 403 forbidden unless the caller is an admin. ' +
        'An Authorization header is optional, but when sent it must be valid (401 otherwise). Email is unique case-insensitively (409 email_taken).',
      operationId: 'createUser',
      tags: ['users'],
      security: [{}, ...bearer],
      body: signUpBody,
      response: { 201: userSchema.describe('The new user'), ...errors(400, 401, 403, 415), 409: problem(['email_taken']) },
    },
    handler: async (request, reply) => {
      const user = await signUp(ctx, request.auth, request.body);
      return reply.code(201).send(user);
    },
  });

  app.get('/users/', {
    onRequest: app.authenticate,
    schema: {
      summary: 'List users: every user for admins, a page holding only yourself for anyone else',
      description: 'Ordered by created_at, then id, oldest first; cursor-paginated.',
      operationId: 'listUsers',
      tags: ['users'],
      security: bearer,
      querystring: z.object(pageQuery),
      response: { 200: pageSchema(userSchema).describe('A page of users'), ...errors(400, 401) },
    },
    handler: async (request) => listUsers(ctx, listUrl(request, ctx.config.PUBLIC_URL), actorOf(request), request.query),
  });

  app.get('/users/me/', {
    onRequest: app.authenticate,
    schema: {
      summary: 'The calling user',
      description: 'The user the access token belongs to, as GET /users/{id}/ answers it.',
      operationId: 'getCurrentUser',
      tags: ['users'],
      security: bearer,
      response: { 200: userSchema.describe('The calling user'), ...errors(401) },
    },
    handler: async (request) => getUser(ctx, actorOf(request), actorOf(request).id),
  });

  app.get('/users/:id/', {
    onRequest: app.authenticate,
    schema: {
      summary: 'A user: yourself, or anyone for admins',
      description: "Another user's id is 404 not_found for non-admins, the same as an id nobody has.",
      operationId: 'getUser',
      tags: ['users'],
      security: bearer,
      params: idParams,
      response: { 200: userSchema.describe('The user'), ...errors(400, 401, 404) },
    },
    handler: async (request) => getUser(ctx, actorOf(request), request.params.id),
  });

  app.patch('/users/:id/', {
    onRequest: app.authenticate,
    schema: {
      summary: 'Change a user: full_name, email, password (yourself or admin); role and is_active (admins only)',
      description:
        'A non-admin sending role or is_active gets 403 forbidden and nothing changes. Changing your own password needs current_password ' +
        '(a wrong one is 401 invalid_credentials); an admin resetting another user\'s password does not send it. A new password, a role change ' +
        'or a deactivation ends every session of the user at once: refresh tokens are revoked and access tokens already issued stop working ' +
        '(including the caller\'s own after changing their own password: log in again).',
      operationId: 'updateUser',
      tags: ['users'],
      security: bearer,
      params: idParams,
      body: patchBody,
      response: {
        200: userSchema.describe('The user as changed'),
        ...errors(400, 403, 404, 415, 503),
        401: problem(['unauthenticated', 'invalid_credentials'], 'No or a bad access token (`unauthenticated`), or a wrong current_password (`invalid_credentials`)'),
        409: problem(['email_taken']),
      },
    },
    handler: async (request) => patchUser(ctx, actorOf(request), request.params.id, request.body),
  });

  app.delete('/users/:id/', {
    onRequest: app.authenticate,
    schema: {
      summary: 'Deactivate a user (yourself or admin); orders and payments are kept',
      description: 'The user can no longer log in; their refresh tokens are revoked and their access tokens stop working. Deactivating an inactive user again is 204.',
      operationId: 'deactivateUser',
      tags: ['users'],
      security: bearer,
      params: idParams,
      response: { 204: z.null().meta({ description: 'Deactivated' }), ...errors(400, 401, 404, 503) },
    },
    handler: async (request, reply) => {
      await deactivateUser(ctx, actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  });
};

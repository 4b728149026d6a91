import { randomUUID } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Role } from '../../db/database.js';
import { unwrap } from '../../core/errors.js';
import { authorizeRole } from '../../core/policy.js';
import { HttpProblem } from './problem.js';

/**
 * Bearer-token authentication. Access tokens are HS256 JWTs (algorithm pinned on verify) carrying
 * sub, role, jti, iat, exp, typ "access" and tv, the user's token version. Every authenticated request
 * checks tv and is_active against the user's current facts (`loadAuthFacts`: the users row through a
 * cache that every write to role, is_active or token_version invalidates before it answers, see
 * shell/auth-cache.ts), so deactivation, a password change or a role change cuts off existing access
 * tokens at once, not only when they expire.
 *
 * Routes require a role with one line: `{ onRequest: app.requireRole('customer') }`, any authenticated
 * user with `{ onRequest: app.authenticate }`, or identify the caller when a token is sent (public reads
 * that show owners more) with `{ onRequest: app.identify }`. Authentication runs in onRequest, before the
 * body is parsed and validated, so an anonymous caller gets 401 whatever the body holds.
 */

export interface AccessClaims {
  sub: string;
  role: Role;
  tv: number;
  typ: 'access';
  jti: string;
}

export interface AuthUser {
  id: string;
  role: Role;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: onRequestAsyncHookHandler;
    /** Public routes: anonymous without an Authorization header; with one, it must be valid (401 otherwise). */
    identify: onRequestAsyncHookHandler;
    requireRole: (...roles: Role[]) => onRequestAsyncHookHandler;
    signAccessToken: (user: { id: string; role: Role; token_version: number }) => string;
  }
  interface FastifyRequest {
    auth: AuthUser | null;
  }
}

/** What authentication needs to know about a token's user, as it is now. */
export interface UserAuthFacts {
  role: Role;
  is_active: boolean;
  token_version: number;
}

export interface AuthOptions {
  /** The current facts of user `id` (a lowercase UUID); undefined when there is no such user. */
  loadAuthFacts: (id: string) => Promise<UserAuthFacts | undefined>;
  secret: string;
  accessTtlSeconds: number;
}

const unauthenticated = () => new HttpProblem('unauthenticated', 'A valid access token is required');

// The auth-scheme is case-insensitive (RFC 9110 §11.1); the token is a JWT (base64url parts and dots).
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Resources whose answers (errors included) carry a user's private data or tokens.
const PRIVATE_RESOURCES = /^\/api\/v1\/(?:users|cart|cart-items|checkout|orders|payments|bank-accounts|notifications|login|token|logout)(?:[/?]|$)/;

/** The claims of an access token this server would issue: anything else (no exp, a sub that is not a UUID…) is refused. */
function isAccessClaims(claims: Partial<AccessClaims> & { exp?: unknown }): claims is AccessClaims {
  return claims.typ === 'access' && typeof claims.exp === 'number' && typeof claims.sub === 'string' && UUID.test(claims.sub) && typeof claims.tv === 'number';
}

export async function registerAuth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  await app.register(fastifyJwt, {
    secret: options.secret,
    sign: { algorithm: 'HS256', expiresIn: options.accessTtlSeconds },
    verify: { algorithms: ['HS256'] },
  });

  app.decorateRequest('auth', null);

  // Private data never sits in a browser or shared cache: private resources, and anything answered to an
  // identified caller (an owner seeing a hidden product), are no-store. Public catalog reads stay cacheable.
  app.addHook('onSend', (request, reply, payload, done) => {
    // (request.auth is undefined, not null, in plugins registered before this decorator, such as /docs)
    if (request.auth || PRIVATE_RESOURCES.test(request.url)) reply.header('Cache-Control', 'no-store');
    done(null, payload);
  });

  app.decorate('signAccessToken', (user: { id: string; role: Role; token_version: number }) =>
    app.jwt.sign({ sub: user.id, role: user.role, tv: user.token_version, typ: 'access', jti: randomUUID() }),
  );

  const authenticate = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw unauthenticated();
    let claims: Partial<AccessClaims>;
    try {
      claims = app.jwt.verify<Partial<AccessClaims>>(token);
    } catch {
      throw unauthenticated();
    }
    if (!isAccessClaims(claims)) throw unauthenticated();
    const id = claims.sub.toLowerCase();
    const user = await options.loadAuthFacts(id);
    if (!user || !user.is_active || user.token_version !== claims.tv) throw unauthenticated();
    request.auth = { id, role: user.role };
  };

  app.decorate('authenticate', authenticate);
  app.decorate('identify', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.headers.authorization !== undefined) await authenticate(request, reply);
  });
  app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest, reply: FastifyReply) => {
    await authenticate(request, reply);
    unwrap(authorizeRole(request.auth!, roles));
  });
}

/** The authenticated caller; only call behind `authenticate`/`requireRole`. */
export function caller(request: FastifyRequest): AuthUser {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}

import { randomUUID } from 'node:crypto';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { DB, Role } from '../../db/database.js';
import { unwrap } from '../../core/errors.js';
import { authorizeRole } from '../../core/policy.js';
import { HttpProblem } from './problem.js';

/**
 * Bearer-token authentication. Access tokens are HS256 JWTs (algorithm pinned on verify) carrying
 * sub, role, jti, iat, exp, typ "access" and tv, the user's token version. Every authenticated request
 * checks tv and is_active against the users row, so deactivation, a password change or a role change
 * cuts off existing access tokens at once, not only when they expire.
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

export interface AuthOptions {
  db: DB;
  secret: string;
  accessTtlSeconds: number;
}

const unauthenticated = () => new HttpProblem('unauthenticated', 'A valid access token is required');

export async function registerAuth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  await app.register(fastifyJwt, {
    secret: options.secret,
    sign: { algorithm: 'HS256', expiresIn: options.accessTtlSeconds },
    verify: { algorithms: ['HS256'] },
  });

  app.decorateRequest('auth', null);

  app.decorate('signAccessToken', (user: { id: string; role: Role; token_version: number }) =>
    app.jwt.sign({ sub: user.id, role: user.role, tv: user.token_version, typ: 'access', jti: randomUUID() }),
  );

  const authenticate = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header || !/^Bearer [A-Za-z0-9._~+/-]+=*$/.test(header)) throw unauthenticated();
    let claims: AccessClaims;
    try {
      claims = await request.jwtVerify<AccessClaims>();
    } catch {
      throw unauthenticated();
    }
    if (claims.typ !== 'access' || typeof claims.sub !== 'string' || typeof claims.tv !== 'number') throw unauthenticated();
    const user = await options.db
      .selectFrom('users')
      .select(['id', 'role', 'is_active', 'token_version'])
      .where('id', '=', claims.sub)
      .executeTakeFirst();
    if (!user || !user.is_active || user.token_version !== claims.tv) throw unauthenticated();
    request.auth = { id: user.id, role: user.role };
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

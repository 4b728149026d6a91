import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { redisUsable } from '../redis.js';
import { createHash } from 'node:crypto';
import type { DB } from '../../db/database.js';
import type { Config } from '../config.js';
import { findRefreshToken } from '../repos/refresh-tokens.js';
import { refreshTokenHash } from '../services/auth.js';
import { headerRef } from './openapi.js';
import { HttpProblem } from './problem.js';
import { errors } from './schemas.js';
import { withTimeout } from '../timeout.js';

/**
 * Scoped rate limits (API.md, Conventions): the one table of which routes each scope covers, what it
 * counts per, its limit and window, and what a store outage does; applied to the routes by an onRoute
 * hook, so route files carry nothing about it.
 *
 * Counters live in Redis when the app has a Redis client (every API process shares them, under
 * `<REDIS_PREFIX>rate-limit:`), in process memory otherwise. They are @fastify/rate-limit limiters made
 * with `createRateLimit` rather than per-route `config.rateLimit`, because the plugin's route hook runs
 * one limit per request (login has two) and keys each route's counter apart (a scope such as "writes"
 * is one budget across ten routes).
 *
 * Store outage (Redis down, or no answer within STORE_TIMEOUT_MS): scopes that guard credentials
 * (login, sign-up, refresh) fail closed with 503 busy and Retry-After, so an outage never opens a
 * password-guessing window; the others fail open with a warning, so an outage does not take the shop
 * down with it.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const STORE_TIMEOUT_MS = 500;
const CLOSED_RETRY_AFTER_SECONDS = 5;
const OUTAGE_WARNING_EVERY_MS = 10_000;

type Limits = Pick<
  Config,
  | 'RATE_LIMIT_LOGIN_PER_MINUTE'
  | 'RATE_LIMIT_LOGIN_IP_PER_MINUTE'
  | 'RATE_LIMIT_SIGNUP_PER_HOUR'
  | 'RATE_LIMIT_REFRESH_PER_MINUTE'
  | 'RATE_LIMIT_WRITES_PER_MINUTE'
  | 'RATE_LIMIT_CATALOG_PER_MINUTE'
  | 'RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE'
>;

/**
 * When the limit is looked at: before authentication (cheapest, per IP), after it (per user, or
 * exempting some callers), or after the body is validated (keyed by a body field).
 */
type Stage = 'before-auth' | 'after-auth' | 'after-validation';

interface KeyDeps {
  db: DB;
}

interface Scope {
  /** The routes, as "METHOD /path/" under the API prefix (a GET covers its HEAD too). */
  routes: string[];
  /** What the counter is per, for the OpenAPI description. */
  per: string;
  limit: (limits: Limits) => number;
  windowMs: number;
  /** The counter's key; the scope name is put in front of it. */
  key: (request: FastifyRequest, deps: KeyDeps) => string | Promise<string>;
  stage: Stage;
  /** requests: every request counts; failed-signatures: only 401 answers count, and block once over. */
  counts: 'requests' | 'failed-signatures';
  whenStoreFails: 'open' | 'closed';
  /** Callers the scope leaves alone. */
  exempt?: (request: FastifyRequest) => boolean;
}

/** The client's address as the limits see it: request.ip honours TRUST_PROXY; IPv6 counts per /64. */
const clientIp = (request: FastifyRequest): string => normalizeIP(request.ip);
const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);

/** Lower-cased and trimmed, hashed so no address is written to Redis. */
function normalisedEmail(request: FastifyRequest): string {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return digest(typeof email === 'string' ? email.trim().toLowerCase() : '');
}

/**
 * Refresh: the token is opaque, so its user is looked up by the token's hash (one indexed read).
 * A token nobody issued has no user: those count per client IP.
 */
async function refreshKey(request: FastifyRequest, deps: KeyDeps): Promise<string> {
  const token = (request.body as { refresh?: unknown } | undefined)?.refresh;
  const row = typeof token === 'string' ? await findRefreshToken(deps.db, refreshTokenHash(token)) : undefined;
  return row ? `user:${row.user_id}` : `ip:${clientIp(request)}`;
}

const catalogRoutes = ['GET /products/', 'GET /products/:id/', 'GET /categories/', 'GET /categories/:id/', 'GET /vendors/', 'GET /vendors/:id/'];
const writeRoutes = [
  'POST /cart-items/',
  'PATCH /cart-items/:id/',
  'DELETE /cart-items/:id/',
  'PATCH /checkout/update/',
  'POST /checkout/confirm/',
  'POST /checkout/cancel/',
  'POST /orders/create/',
  'POST /orders/:id/cancel/',
  'POST /payments/initiate/',
  'POST /payments/confirm/',
  'POST /payments/:id/refund/',
];

export const RATE_LIMIT_SCOPES = {
  login: {
    routes: ['POST /login/'],
    per: 'client IP and email (trimmed, lower-cased)',
    limit: (l) => l.RATE_LIMIT_LOGIN_PER_MINUTE,
    windowMs: MINUTE,
    key: (request) => `${clientIp(request)}:${normalisedEmail(request)}`,
    stage: 'after-validation',
    counts: 'requests',
    whenStoreFails: 'closed',
  },
  login_ip: {
    routes: ['POST /login/'],
    per: 'client IP',
    limit: (l) => l.RATE_LIMIT_LOGIN_IP_PER_MINUTE,
    windowMs: MINUTE,
    key: clientIp,
    stage: 'after-validation',
    counts: 'requests',
    whenStoreFails: 'closed',
  },
  signup: {
    routes: ['POST /users/'],
    per: 'client IP (admins creating users are not counted)',
    limit: (l) => l.RATE_LIMIT_SIGNUP_PER_HOUR,
    windowMs: HOUR,
    key: clientIp,
    stage: 'after-auth',
    counts: 'requests',
    whenStoreFails: 'closed',
    exempt: (request) => request.auth?.role === 'admin',
  },
  refresh: {
    routes: ['POST /token/refresh/'],
    per: "the refresh token's user (client IP for a token this server never issued)",
    limit: (l) => l.RATE_LIMIT_REFRESH_PER_MINUTE,
    windowMs: MINUTE,
    key: refreshKey,
    stage: 'after-validation',
    counts: 'requests',
    whenStoreFails: 'closed',
  },
  writes: {
    routes: writeRoutes,
    per: 'authenticated user, shared by cart, checkout, order and payment writes',
    limit: (l) => l.RATE_LIMIT_WRITES_PER_MINUTE,
    windowMs: MINUTE,
    key: (request) => (request.auth ? `user:${request.auth.id}` : `ip:${clientIp(request)}`),
    stage: 'after-auth',
    counts: 'requests',
    whenStoreFails: 'open',
  },
  catalog: {
    routes: catalogRoutes,
    per: 'client IP, shared by product, category and vendor reads',
    limit: (l) => l.RATE_LIMIT_CATALOG_PER_MINUTE,
    windowMs: MINUTE,
    key: clientIp,
    stage: 'before-auth',
    counts: 'requests',
    whenStoreFails: 'open',
  },
  webhook_failures: {
    routes: ['POST /payments/webhooks/:provider/'],
    per: 'client IP and provider, counting only failed signatures (401); once over, every delivery from that IP is refused until the window ends',
    limit: (l) => l.RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE,
    windowMs: MINUTE,
    key: (request) => `${String((request.params as { provider?: unknown }).provider ?? '').toLowerCase()}:${clientIp(request)}`,
    stage: 'before-auth',
    counts: 'failed-signatures',
    whenStoreFails: 'open',
  },
} satisfies Record<string, Scope>;

export type ScopeName = keyof typeof RATE_LIMIT_SCOPES;
const scopeNames = Object.keys(RATE_LIMIT_SCOPES) as ScopeName[];
const scopeOf = (name: ScopeName): Scope => RATE_LIMIT_SCOPES[name];

/** Route ("METHOD /path/") → the scopes that limit it. */
function scopesByRoute(): Map<string, ScopeName[]> {
  const byRoute = new Map<string, ScopeName[]>();
  for (const name of scopeNames) {
    for (const route of scopeOf(name).routes) byRoute.set(route, [...(byRoute.get(route) ?? []), name]);
  }
  return byRoute;
}

/** Where a request stands against one scope. */
interface Standing {
  scope: ScopeName;
  limit: number;
  remaining: number;
  resetSeconds: number;
  exceeded: boolean;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export interface RateLimitOptions {
  config: Config;
  redis: Redis | null;
  db: DB;
  /** The prefix routes are registered under (/api/v1). */
  prefix: string;
}

/**
 * Registers @fastify/rate-limit (global: false) and the onRoute hook that puts each scope on its
 * routes. Call before the routes are registered. With RATE_LIMIT_ENABLED=false nothing is counted;
 * the 429 stays in the route schemas either way (it is the contract).
 */
export async function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const { config, redis, db, prefix } = options;
  const byRoute = scopesByRoute();
  const applied = new Set<string>();

  let limiters: Record<ScopeName, Limiter> | null = null;
  if (config.RATE_LIMIT_ENABLED) {
    await app.register(fastifyRateLimit, {
      global: false,
      // Keys read <prefix>rate-limit:undefinedundefined-<scope>:<key>: the plugin puts a route's method and
      // url after the namespace, which createRateLimit limiters do not have.
      ...(redis ? { redis, nameSpace: `${config.REDIS_PREFIX}rate-limit:` } : {}),
      skipOnError: false,
    });
    limiters = Object.fromEntries(
      scopeNames.map((name) => {
        const scope = scopeOf(name);
        return [
          name,
          app.createRateLimit({
            max: scope.limit(config),
            timeWindow: scope.windowMs,
            keyGenerator: async (request) => `${name}:${await scope.key(request, { db })}`,
            allowList: (request) => scope.exempt?.(request) ?? false,
          }),
        ];
      }),
    ) as Record<ScopeName, Limiter>;
  }

  const lastOutageWarning = new Map<ScopeName, number>();
  async function consult(name: ScopeName, request: FastifyRequest, increment: boolean): Promise<Standing | null> {
    const scope = scopeOf(name);
    try {
      // Known unreachable: the store's failure at once, not after the timeout.
      if (redis && !redisUsable(redis)) throw new Error('Redis is not reachable');
      const result = await withTimeout(limiters![name](request, { increment }), STORE_TIMEOUT_MS, 'rate limit store');
      if (result.isAllowed) return null;
      return {
        scope: name,
        limit: result.max,
        remaining: result.remaining,
        resetSeconds: result.ttl > 0 ? Math.max(1, result.ttlInSeconds) : Math.ceil(result.timeWindow / 1000),
        // A peek (failed-signature scopes) blocks at the limit; a counted request once past it.
        exceeded: increment ? result.isExceeded : result.remaining === 0,
      };
    } catch (error) {
      if (scope.whenStoreFails === 'closed') {
        request.log.error({ err: error, rateLimitScope: name }, 'rate limit store unavailable; refusing (fail closed)');
        throw new HttpProblem('busy', 'Rate limiting is unavailable; retry shortly', {}, { 'Retry-After': String(CLOSED_RETRY_AFTER_SECONDS) });
      }
      const now = Date.now();
      if (now - (lastOutageWarning.get(name) ?? 0) >= OUTAGE_WARNING_EVERY_MS) {
        lastOutageWarning.set(name, now);
        request.log.warn({ err: error, rateLimitScope: name }, 'rate limit store unavailable; serving without a limit (fail open)');
      }
      return null;
    }
  }

  /** Counts the request against every scope; headers show the tightest, 429 if any is over. */
  const enforce = (names: ScopeName[], increment: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const standings = (await Promise.all(names.map((name) => consult(name, request, increment)))).filter((s): s is Standing => s !== null);
    if (standings.length === 0) return;
    const over = standings.filter((s) => s.exceeded).sort((a, b) => b.resetSeconds - a.resetSeconds);
    const shown = over[0] ?? [...standings].sort((a, b) => a.remaining - b.remaining || b.resetSeconds - a.resetSeconds)[0]!;
    setHeaders(reply, shown);
    if (over.length > 0) {
      request.log.info({ rateLimitScope: shown.scope }, 'rate limited');
      throw new HttpProblem('rate_limited', `Too many requests (${shown.scope} limit, ${shown.limit}); retry in ${shown.resetSeconds} s`, {}, {
        'Retry-After': String(shown.resetSeconds),
      });
    }
  };

  /** Failed-signature scopes count a request only once it has been answered 401. */
  const countFailure = (names: ScopeName[]) => async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode === 401) {
      const standings = (await Promise.all(names.map((name) => consult(name, request, true)))).filter((s): s is Standing => s !== null);
      const shown = [...standings].sort((a, b) => a.remaining - b.remaining)[0];
      if (shown) setHeaders(reply, shown);
    }
    return payload;
  };

  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.url.startsWith(prefix)) return;
    const path = route.url.slice(prefix.length);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const method = methods.map((m) => (m === 'HEAD' ? 'GET' : m)).find((m) => byRoute.has(`${m} ${path}`));
    if (method === undefined) return;
    const names = byRoute.get(`${method} ${path}`)!;
    applied.add(`${method} ${path}`);

    const closed = names.some((n) => scopeOf(n).whenStoreFails === 'closed');
    const response = (route.schema?.response ?? {}) as Record<string, unknown>;
    route.schema = { ...route.schema, response: { ...response, ...(response[429] ? {} : errors(429)), ...(closed && !response[503] ? errors(503) : {}) } };

    if (!limiters) return;
    // Arrays are replaced, never pushed into: Fastify copies these options for the HEAD route.
    const stage = scopeOf(names[0]!).stage;
    const counted = names.filter((n) => scopeOf(n).counts === 'requests');
    const failures = names.filter((n) => scopeOf(n).counts === 'failed-signatures');
    const hooks = [...(counted.length ? [enforce(counted, true)] : []), ...(failures.length ? [enforce(failures, false)] : [])];
    if (stage === 'before-auth') route.onRequest = [...hooks, ...asArray(route.onRequest)];
    else if (stage === 'after-auth') route.onRequest = [...asArray(route.onRequest), ...hooks];
    else route.preHandler = [...asArray(route.preHandler), ...hooks];
    if (failures.length) route.onSend = [...asArray(route.onSend), countFailure(failures)];
  });

  // A route renamed without its row here would silently lose its limit: refuse to start instead.
  app.addHook('onReady', async () => {
    const missing = [...byRoute.keys()].filter((route) => !applied.has(route));
    if (missing.length > 0) throw new Error(`rate limits: no route matches ${missing.join(', ')} (shell/http/rate-limits.ts)`);
  });
}

function setHeaders(reply: FastifyReply, standing: Standing): void {
  reply.header('RateLimit-Limit', String(standing.limit));
  reply.header('RateLimit-Remaining', String(standing.remaining));
  reply.header('RateLimit-Reset', String(standing.resetSeconds));
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

interface OpenApiResponse {
  description?: string;
  headers?: Record<string, unknown>;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, { description?: string; responses?: Record<string, OpenApiResponse> }>>;
}

// (the headers themselves are described once, in components.headers: shell/http/openapi.ts)
const rateLimitHeaders = {
  'RateLimit-Limit': headerRef('RateLimit-Limit'),
  'RateLimit-Remaining': headerRef('RateLimit-Remaining'),
  'RateLimit-Reset': headerRef('RateLimit-Reset'),
};
const retryAfter = { 'Retry-After': headerRef('Retry-After') };

/**
 * States the limits in the OpenAPI document: on each limited operation, the RateLimit-* response headers,
 * Retry-After on 429 (and on 503 where the scope fails closed), and the limits in the description.
 */
export function describeRateLimits<D extends object>(doc: D, config: Config, prefix: string): D {
  const paths = (doc as OpenApiDocument).paths;
  for (const [route, names] of scopesByRoute()) {
    const [method, path] = route.split(' ') as [string, string];
    const openApiPath = prefix + path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const operation = paths?.[openApiPath]?.[method.toLowerCase()];
    if (!operation) continue;
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (Number(status) >= 500) continue;
      response.headers = { ...response.headers, ...rateLimitHeaders, ...(status === '429' ? retryAfter : {}) };
    }
    const busy = operation.responses?.['503'];
    if (busy && names.some((n) => scopeOf(n).whenStoreFails === 'closed')) busy.headers = { ...busy.headers, ...retryAfter };
    const lines = names.map((n) => {
      const scope = scopeOf(n);
      const window = scope.windowMs === HOUR ? 'hour' : 'minute';
      return `${scope.limit(config)} per ${window} per ${scope.per} (scope ${n})`;
    });
    const outage = names.some((n) => scopeOf(n).whenStoreFails === 'closed') ? ' If the rate-limit store is unavailable: 503 busy with Retry-After.' : '';
    operation.description = `${operation.description ? `${operation.description} ` : ''}Rate limit: ${lines.join('; ')}; over it, 429 rate_limited with Retry-After.${outage}`;
  }
  return doc;
}

import { randomUUID } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from './config.js';
import { loadUserAuthFacts } from './auth-cache.js';
import { createContext, type ContextDeps } from './context.js';
import { redisUsable } from './redis.js';
import type { RoutePlugin } from './routes/plugin.js';
import { pingDatabase } from './db.js';
import { registerAuth } from './http/auth.js';
import { connectionOptions, registerLoadShedding } from './http/connections.js';
import { carryResponseNotes, describeContract, type OpenApiDocument } from './http/openapi.js';
import { answerClientError, answerFrameworkError, HttpProblem, installProblemHandlers } from './http/problem.js';
import { describeRateLimits, registerRateLimits } from './http/rate-limits.js';
import { securityHeaders } from './http/security-headers.js';
import { serializerCompiler } from './http/serializer.js';
import { authRoutes } from './routes/auth.js';
import { bankAccountsRoutes } from './routes/bank-accounts.js';
import { cartRoutes } from './routes/cart.js';
import { categoriesRoutes } from './routes/categories.js';
import { checkoutRoutes } from './routes/checkout.js';
import { notificationsRoutes } from './routes/notifications.js';
import { ordersRoutes } from './routes/orders.js';
import { paymentsRoutes } from './routes/payments.js';
import { productImagesRoutes } from './routes/product-images.js';
import { productsRoutes } from './routes/products.js';
import { usersRoutes } from './routes/users.js';
import { vendorsRoutes } from './routes/vendors.js';
import { withTimeout } from './timeout.js';

export interface AppDeps extends ContextDeps {
  logger?: FastifyServerOptions['logger'];
}

export const API_PREFIX = '/api/v1';
export const JSON_BODY_LIMIT = 1024 * 1024;
/** Deeper JSON is 400 malformed_json before it is parsed: no route takes more than a few levels. */
export const MAX_JSON_DEPTH = 32;

const resources: RoutePlugin[] = [
  authRoutes,
  usersRoutes,
  vendorsRoutes,
  bankAccountsRoutes,
  categoriesRoutes,
  productsRoutes,
  productImagesRoutes,
  cartRoutes,
  checkoutRoutes,
  ordersRoutes,
  paymentsRoutes,
  notificationsRoutes,
];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the whole HTTP application without listening, so tests can `inject` into it. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? { level: config.LOG_LEVEL },
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: config.TRUST_PROXY,
    // Request, headers, keep-alive and idle-socket timeouts (HTTP_*_TIMEOUT_MS): slow clients are cut off.
    ...connectionOptions(config),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors met before any route runs (bad percent-encoding; request line or headers over Node's limit)
    // are problem+json like every other.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // Honour a sane incoming X-Request-Id (from a proxy), otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandlers(app);

  const security = securityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(security).header('X-Request-Id', request.id);
    done();
  });
  await registerLoadShedding(app, config);

  // JSON only: no text/plain bodies (415), and an empty JSON body counts as "no body" so POSTs that take
  // no input accept nothing, an empty body or {}.
  app.removeContentTypeParser('text/plain');
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, undefined);
    const text = body.toString();
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) return done(new HttpProblem('malformed_json', `The request body nests JSON deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    return defaultJson(request, text, (error, parsed) => {
      // The secure parser refuses "__proto__" / "constructor.prototype" keys as if the JSON were broken.
      // They are valid JSON that no route accepts: an unknown field (400 validation_failed) like any other.
      // They are never assigned to anything.
      if (error && isValidJson(text)) {
        const path = /"__proto__"\s*:/.test(text) ? '__proto__' : 'constructor';
        return done(new HttpProblem('validation_failed', 'The request does not match the schema', { errors: [{ path, message: 'Unknown field' }] }), undefined);
      }
      return done(error, parsed);
    });
  });

  const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length > 0) await app.register(fastifyCors, { origin: origins, exposedHeaders: ['X-Request-Id', 'Idempotent-Replayed', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'] });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nexus Commerce API',
        version: '1.0.0',
        description:
          'Multi-vendor e-commerce: catalog, cart → checkout → order → payment. Money is integer minor units. Lists are cursor-paginated (next and previous links). ' +
          'Errors are RFC 9457 problem+json; each error response lists the `code`s it can carry as an enum on `code`. Besides those, any operation may answer ' +
          '400 bad_request (a URL that is not validly percent-encoded), 405 method_not_allowed (with Allow), 408 request_timeout, 414 uri_too_long, ' +
          '431 headers_too_large, 500 internal_error (quoting the request id) and, when the server sheds load (or, for a write, cannot reach Redis), 503 busy with Retry-After. ' +
          'Every response carries X-Request-Id.',
      },
      servers: config.PUBLIC_URL ? [{ url: config.PUBLIC_URL }] : [],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'health', description: 'Liveness and readiness probes for orchestrators and load balancers' },
        { name: 'auth', description: 'Log in, refresh and log out: short-lived access tokens (JWT) and one-use refresh tokens' },
        { name: 'users', description: 'Sign-up and user accounts: customers, vendors and admins' },
        { name: 'vendors', description: 'Vendor profiles: the stores whose products the catalog lists' },
        { name: 'bank-accounts', description: "A vendor's payout bank account (stored encrypted; only the last four characters are answered)" },
        { name: 'categories', description: 'Product categories, managed by admins' },
        { name: 'products', description: 'The catalog: products, their images and the locally stored image files' },
        { name: 'cart', description: "The customer's cart and its lines" },
        { name: 'checkout', description: 'Shipping details and confirmation: a confirmed checkout freezes items and prices until it expires' },
        { name: 'orders', description: 'Orders made from a confirmed checkout, and their cancellation' },
        { name: 'payments', description: 'Paying orders through a provider (Paystack, Stripe), refunds, and provider webhooks' },
        { name: 'notifications', description: "The caller's notifications about orders (paid, expired, refunded)" },
      ],
    },
    transform: (document) => carryResponseNotes(jsonSchemaTransform(document)),
    // Puts schemas registered with a meta id (Payment, Problem, User…) into components.schemas, where their $refs point,
    // states the rate limits, then what the generic transform cannot know (shell/http/openapi.ts): problem codes,
    // response headers, optional no-input bodies; and drops zod's safe-integer bounds and unused components.
    transformObject: (documentObject) => describeContract(describeRateLimits(jsonSchemaTransformObject(documentObject) as OpenApiDocument, config, API_PREFIX)),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const ctx = createContext(config, deps, app.log);
  // The cache generations live in Redis: a write no process could announce there would leave the others
  // serving what it changed (catalog answers, users' auth facts). While Redis cannot be reached, writes are
  // refused before anything is written; reads go to the database (shell/cache.ts).
  const sharedCache = ctx.cache.kind === 'redis' ? ctx.redis : null;
  if (sharedCache) {
    app.addHook('onRequest', (request, _reply, done) => {
      if (SAFE_METHODS.has(request.method) || redisUsable(sharedCache)) return done();
      done(new HttpProblem('busy', 'The shared cache cannot be reached: writes are refused until it is back; retry shortly', {}, { 'Retry-After': '5' }));
    });
  }
  await registerAuth(app, {
    loadAuthFacts: (id) => loadUserAuthFacts(ctx.db, ctx.cache, ctx.log, id),
    secret: config.JWT_SECRET,
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  const redis = ctx.redis;
  await registerRateLimits(app, { config, redis, db: deps.db, prefix: API_PREFIX });

  app.get('/healthz', {
    schema: {
      summary: 'Liveness: the process is up',
      description: 'Answers 200 while the process runs, whatever the database and Redis do; never shed under load.',
      operationId: 'checkLiveness',
      tags: ['health'],
      security: [],
      response: { 200: z.object({ status: z.literal('ok') }).describe('The process is up') },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  const readyBody = z.object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['ok', 'failed', 'not_configured'])),
  });
  app.get('/readyz', {
    schema: {
      summary: 'Readiness: database and (when configured) Redis reachable',
      description: 'Each dependency is pinged with a 2 s timeout; any failed check makes the answer 503 (a JSON body like the 200, not a problem).',
      operationId: 'checkReadiness',
      tags: ['health'],
      security: [],
      response: { 200: readyBody.describe('Ready: every configured dependency answered'), 503: readyBody.describe('Not ready: a dependency failed its check') },
    },
    handler: async (_request, reply) => {
      const checks: Record<string, 'ok' | 'failed' | 'not_configured'> = {};
      checks.database = await withTimeout(pingDatabase(deps.db), 2000, 'the database').then(() => 'ok' as const, () => 'failed' as const);
      // A Redis known to be unreachable (or hanging) fails at once: a probe must answer within its own timeout.
      checks.redis = !redis ? 'not_configured' : !redisUsable(redis) ? 'failed' : await withTimeout(redis.ping(), 2000, 'Redis').then(() => 'ok' as const, () => 'failed' as const);
      const ready = !Object.values(checks).includes('failed');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
    },
  });

  await app.register(
    async (api) => {
      for (const resource of resources) await resource(api.withTypeProvider<ZodTypeProvider>(), ctx);
    },
    { prefix: API_PREFIX },
  );

  return app;
}

/** Whether JSON text opens more than `max` arrays/objects at once; one pass, no parsing, strings skipped. */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}


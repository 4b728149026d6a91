import { randomUUID } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from './config.js';
import { createContext, type ContextDeps } from './context.js';
import type { RoutePlugin } from './routes/plugin.js';
import { pingDatabase } from './db.js';
import { registerAuth } from './http/auth.js';
import { connectionOptions, registerLoadShedding } from './http/connections.js';
import { answerClientError, answerFrameworkError, HttpProblem, installProblemHandlers, PROBLEM_CONTENT_TYPE } from './http/problem.js';
import { describeRateLimits, registerRateLimits } from './http/rate-limits.js';
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

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
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

  await app.register(fastifyHelmet, { contentSecurityPolicy: false, global: true });
  const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length > 0) await app.register(fastifyCors, { origin: origins, exposedHeaders: ['X-Request-Id', 'Idempotent-Replayed', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After'] });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Nexus Commerce API',
        version: '1.0.0',
        description: 'Multi-vendor e-commerce: catalog, cart → checkout → order → payment. Errors are RFC 9457 problem+json.',
      },
      servers: config.PUBLIC_URL ? [{ url: config.PUBLIC_URL }] : [],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'health' },
        { name: 'auth' },
        { name: 'users' },
        { name: 'vendors' },
        { name: 'bank-accounts' },
        { name: 'categories' },
        { name: 'products' },
        { name: 'cart' },
        { name: 'checkout' },
        { name: 'orders' },
        { name: 'payments' },
        { name: 'notifications' },
      ],
    },
    transform: jsonSchemaTransform,
    // Puts schemas registered with a meta id (Payment, Problem, User…) into components.schemas, where their $refs point,
    // then states what the generic transform cannot know: errors are problem+json, no-input bodies are optional.
    transformObject: (documentObject) => describeRateLimits(describeContract(jsonSchemaTransformObject(documentObject) as OpenApiDocument), config, API_PREFIX),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  await registerAuth(app, { db: deps.db, secret: config.JWT_SECRET, accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS });

  const ctx = createContext(config, deps, app.log);
  const redis = ctx.redis;
  await registerRateLimits(app, { config, redis, db: deps.db, prefix: API_PREFIX });


  app.get('/healthz', {
    schema: { summary: 'Liveness: the process is up', tags: ['health'], security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ status: 'ok' as const }),
  });

  const readyBody = z.object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.enum(['ok', 'failed', 'not_configured'])),
  });
  app.get('/readyz', {
    schema: { summary: 'Readiness: database and (when configured) Redis reachable', tags: ['health'], security: [], response: { 200: readyBody, 503: readyBody } },
    handler: async (_request, reply) => {
      const checks: Record<string, 'ok' | 'failed' | 'not_configured'> = {};
      checks.database = await withTimeout(pingDatabase(deps.db), 2000).then(() => 'ok' as const, () => 'failed' as const);
      checks.redis = redis ? await withTimeout(redis.ping(), 2000).then(() => 'ok' as const, () => 'failed' as const) : 'not_configured';
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

interface OpenApiOperation {
  requestBody?: { required?: boolean; content?: Record<string, { schema?: { anyOf?: { type?: string; properties?: object }[] } }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}
type OpenApiDocument = { paths?: Record<string, Record<string, OpenApiOperation>> } & Record<string, unknown>;

/**
 * Error responses are sent as application/problem+json (RFC 9457), and a POST that takes no input
 * (its schema is "{} or nothing") accepts no body: the document says so.
 */
function describeContract(doc: OpenApiDocument): OpenApiDocument {
  for (const methods of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(methods)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        // (a route that `produces` images lists its error schema under those types too)
        const json = response.content?.['application/json'] ?? Object.values(response.content ?? {})[0];
        if (Number(status) >= 400 && json !== undefined) response.content = { [PROBLEM_CONTENT_TYPE]: json };
      }
      const variants = operation.requestBody?.content?.['application/json']?.schema?.anyOf;
      const noInput = variants?.some((v) => v.type === 'null') && variants.every((v) => v.type === 'null' || Object.keys(v.properties ?? {}).length === 0);
      if (operation.requestBody && noInput) operation.requestBody.required = false;
    }
  }
  return doc;
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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}


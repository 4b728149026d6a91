import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { DB } from '../db/database.js';
import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { Paginator } from './http/pagination.js';
import type { MediaStore } from './media/store.js';
import type { PaymentProviders } from './payments/provider.js';

/** What route plugins and services are given: configuration and the I/O handles, nothing global. */
export interface AppContext {
  config: Config;
  db: DB;
  redis: Redis | null;
  /** The clock: services read time here (tests may pin it), never through Date.now(). */
  now: () => Date;
  paginator: Paginator;
  cache: Cache;
  media: MediaStore;
  payments: PaymentProviders;
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A resource's routes: registered under /api/v1 with the shared context. */
export type RoutePlugin = (app: App, ctx: AppContext) => void | Promise<void>;

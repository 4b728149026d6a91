import type { Redis } from 'ioredis';
import type { DB } from '../db/database.js';
import { createMediaStore, createPaymentProviders } from './adapters.js';
import { createCache, type Cache } from './cache.js';
import type { Config } from './config.js';
import type { Paginator } from './pagination.js';
import type { MediaStore } from './media/store.js';
import type { PaymentProviders } from './payments/provider.js';

/** Where services and jobs write logs (pino's shape: merge object first, then the message). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What route plugins and services are given: configuration and the I/O handles, nothing global. */
export interface AppContext {
  config: Config;
  db: DB;
  redis: Redis | null;
  /** The clock: services read time here (tests may pin it), never through Date.now(). */
  now: () => Date;
  paginator: Paginator;
  log: Logger;
  /**
   * Asks for a background job to run soon (after a commit that gave it work: the relay after an outbox
   * row). Best effort: the job's sweep is the safety net. A no-op where no jobs run.
   */
  wake: (job: 'relay') => void;
  cache: Cache;
  media: MediaStore;
  payments: PaymentProviders;
}

export interface ContextDeps {
  db: DB;
  /** An ioredis client when REDIS_URL is configured; the caller owns and closes it. */
  redis?: Redis | null;
  now?: () => Date;
  cache?: Cache;
  media?: MediaStore;
  payments?: PaymentProviders;
  wake?: (job: 'relay') => void;
}

/**
 * The context services run in, built the same way by the HTTP app, the worker, scripts and tests: what is
 * not given is made from the configuration (cache on Redis or in process, media store, payment adapters).
 */
export function createContext(config: Config, deps: ContextDeps, log: Logger): AppContext {
  const redis = deps.redis ?? null;
  return {
    config,
    db: deps.db,
    redis,
    now: deps.now ?? (() => new Date()),
    paginator: { secret: config.JWT_SECRET },
    log,
    wake: deps.wake ?? (() => undefined),
    cache: reportingFailedBumps(deps.cache ?? createCache(redis, config.REDIS_PREFIX), log),
    media: deps.media ?? createMediaStore(config),
    payments: deps.payments ?? createPaymentProviders(config),
  };
}

/**
 * Bumps run after a write has committed: one that fails then (Redis lost mid-request; writes are refused
 * up front while it is known to be down, see shell/app.ts) is logged as an error instead of turning the
 * committed write's answer into a 500. Other processes may then serve what it changed until the entries'
 * TTL (60 s).
 */
function reportingFailedBumps(cache: Cache, log: Logger): Cache {
  return {
    ...cache,
    bump: (...namespaces) =>
      cache.bump(...namespaces).catch((error: unknown) => log.error({ err: error, namespaces }, 'cache generation not bumped after a committed write; other processes may serve stale answers until their TTL')),
  };
}

import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * The whole configuration, read once from the environment at start-up.
 * Nothing else in the project reads process.env.
 */

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const perWindow = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const milliseconds = (fallback: number) => z.coerce.number().int().positive().max(3_600_000).default(fallback);

// Fixed, public development secrets: only ever used outside production, which refuses them.
const DEV_JWT_SECRET = 'nexus-development-only-jwt-secret-do-not-use-in-production';
const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** API processes `npm start` runs (node:cluster, one shared listening socket); more than 1 needs DATABASE_URL and REDIS_URL. */
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(1),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./.data'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /** Connections per process; default defaultPoolSize(WEB_CONCURRENCY), from this machine's cores. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  REDIS_PREFIX: z.string().default('nexus:'),
  JWT_SECRET: z.string().optional(),
  ENCRYPTION_KEY: z.string().optional(),
  ENCRYPTION_KEY_ID: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('k1'),
  /** Retired keys still needed to decrypt old rows: "id:base64key,id:base64key". */
  ENCRYPTION_PREVIOUS_KEYS: z.string().default(''),
  ACCESS_TOKEN_TTL_SECONDS: seconds(900),
  REFRESH_TOKEN_TTL_SECONDS: seconds(604800),
  CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').default('USD'),
  CHECKOUT_TTL_SECONDS: seconds(900),
  PAYMENT_DUE_SECONDS: seconds(1800),
  JOBS_SWEEP_SECONDS: seconds(30),
  /** inline: timers inside the API process; queue: BullMQ schedulers, run by `npm run worker`; off. Default: queue with REDIS_URL, else inline. */
  JOBS_MODE: z.enum(['inline', 'queue', 'off']).optional(),
  RECONCILE_AFTER_SECONDS: seconds(300),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('Nexus <no-reply@nexus.local>'),
  RATE_LIMIT_ENABLED: booleanFlag.default(true),
  RATE_LIMIT_LOGIN_PER_MINUTE: perWindow(5),
  RATE_LIMIT_LOGIN_IP_PER_MINUTE: perWindow(30),
  RATE_LIMIT_SIGNUP_PER_HOUR: perWindow(10),
  RATE_LIMIT_REFRESH_PER_MINUTE: perWindow(30),
  RATE_LIMIT_WRITES_PER_MINUTE: perWindow(60),
  RATE_LIMIT_CATALOG_PER_MINUTE: perWindow(600),
  /** Failed webhook signatures (401) per IP and provider before that IP is refused for the rest of the minute. */
  RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE: perWindow(10),
  PAYMENT_PROVIDER: z.enum(['fake', 'paystack', 'stripe']).optional(),
  PAYMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  PAYSTACK_SECRET_KEY: z.string().optional(),
  PAYSTACK_BASE_URL: z.url().default('https://api.paystack.co'),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_BASE_URL: z.url().default('https://api.stripe.com'),
  CLOUDINARY_URL: z.string().regex(/^cloudinary:\/\//, 'must be a cloudinary:// URL').optional(),
  /** Where the Cloudinary SDK sends uploads; only changed to point tests at a local stand-in. */
  CLOUDINARY_UPLOAD_PREFIX: z.url().optional(),
  TRUST_PROXY: booleanFlag.default(false),
  CORS_ORIGINS: z.string().default(''),
  /** The whole request (headers and body) must arrive within this; a slow-body client is cut off (408). */
  HTTP_REQUEST_TIMEOUT_MS: milliseconds(60_000),
  /** The request headers must arrive within this (at most HTTP_REQUEST_TIMEOUT_MS): slowloris clients are cut off. */
  HTTP_HEADERS_TIMEOUT_MS: milliseconds(10_000),
  /** An idle keep-alive connection is closed after this; above the usual 60 s of load balancers, so they close first. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds(72_000),
  /** A socket with no traffic either way for this long is destroyed (a client that stops reading its response). */
  HTTP_CONNECTION_TIMEOUT_MS: milliseconds(120_000),
  /** Load shedding (@fastify/under-pressure): past a threshold, requests answer 503 busy with Retry-After. */
  UNDER_PRESSURE_ENABLED: booleanFlag.default(true),
  /** Mean event-loop delay over a sample interval above which the process is saturated; 0 turns the check off. */
  UNDER_PRESSURE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  /** Event-loop utilisation (0 to 1) over a sample interval above which the process is saturated; 0 turns it off. */
  UNDER_PRESSURE_MAX_EVENT_LOOP_UTILIZATION: z.coerce.number().min(0).max(1).default(0),
  /** Heap used and resident set size in bytes above which the process sheds load; 0 turns each off. */
  UNDER_PRESSURE_MAX_HEAP_USED_BYTES: z.coerce.number().int().min(0).default(0),
  UNDER_PRESSURE_MAX_RSS_BYTES: z.coerce.number().int().min(0).default(0),
  UNDER_PRESSURE_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  UNDER_PRESSURE_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
});

type Env = z.infer<typeof schema>;

export type Config = Omit<Env, 'JWT_SECRET' | 'ENCRYPTION_KEY' | 'PAYMENT_PROVIDER' | 'ENCRYPTION_PREVIOUS_KEYS' | 'JOBS_MODE' | 'DATABASE_POOL_SIZE'> & {
  JOBS_MODE: 'inline' | 'queue' | 'off';
  DATABASE_POOL_SIZE: number;
  JWT_SECRET: string;
  /** Current key id and all keys by id (the current one included), 32 bytes each. */
  ENCRYPTION_KEY_ID: string;
  ENCRYPTION_KEYS: Record<string, Buffer>;
  PAYMENT_PROVIDER: 'fake' | 'paystack' | 'stripe';
  CORS_ORIGINS: string;
};

export class ConfigError extends Error {}

/**
 * Database connections per API process when DATABASE_POOL_SIZE is not set: about two per core of this
 * machine (a connection waits on the network and on the client between statements; more than that only
 * queue inside PostgreSQL and, under SERIALIZABLE, widen the window for conflicts), shared out over the
 * WEB_CONCURRENCY processes, at least 4 (a hot product's buyers may hold one while they queue).
 */
export function defaultPoolSize(webConcurrency = 1, cores = availableParallelism()): number {
  return Math.max(4, Math.ceil((2 * cores + 1) / webConcurrency));
}

function decodeKey(name: string, value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) throw new ConfigError(`${name}: must be 32 bytes encoded in base64 (got ${key.length} bytes)`);
  return key;
}

/** Empty strings mean "not set", as in most .env tooling; the first problem is one line naming the variable. */
function parseEnv<S extends z.ZodType>(shape: S, env: Record<string, string | undefined>): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = shape.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

const DATABASE_URL_IN_PRODUCTION = 'DATABASE_URL: required in production (the embedded database is for development only)';

/** What the commands that only touch the database read (migrate, create-admin, seed). */
export type DatabaseConfig = Pick<Config, 'NODE_ENV' | 'DATA_DIR' | 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>;

const databaseSchema = schema.pick({ NODE_ENV: true, DATA_DIR: true, DATABASE_URL: true, DATABASE_POOL_SIZE: true });

/**
 * The database part of the configuration alone, with the same rules as loadConfig: a one-shot
 * migration (or an operator command run beside it) needs DATABASE_URL, not the API's secrets.
 */
export function loadDatabaseConfig(env: Record<string, string | undefined>): DatabaseConfig {
  const e = parseEnv(databaseSchema, env);
  if (e.NODE_ENV === 'production' && !e.DATABASE_URL) throw new ConfigError(DATABASE_URL_IN_PRODUCTION);
  return { ...e, DATABASE_POOL_SIZE: e.DATABASE_POOL_SIZE ?? defaultPoolSize() };
}

/** Where the API's shared cache lives: what an operator command needs to retire cached entries after its write (create-admin). */
export type CacheConfig = Pick<Config, 'REDIS_URL' | 'REDIS_PREFIX'>;

const cacheSchema = schema.pick({ REDIS_URL: true, REDIS_PREFIX: true });

export function loadCacheConfig(env: Record<string, string | undefined>): CacheConfig {
  return parseEnv(cacheSchema, env);
}

/** Parses and checks the environment; throws ConfigError with one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const e = parseEnv(schema, env);
  const production = e.NODE_ENV === 'production';

  if (production) {
    if (!e.DATABASE_URL) throw new ConfigError(DATABASE_URL_IN_PRODUCTION);
    if (!e.JWT_SECRET || e.JWT_SECRET.length < 32) throw new ConfigError('JWT_SECRET: required in production, at least 32 characters');
    if (!e.ENCRYPTION_KEY) throw new ConfigError('ENCRYPTION_KEY: required in production (32 bytes, base64)');
    if (!e.PAYMENT_PROVIDER || e.PAYMENT_PROVIDER === 'fake') throw new ConfigError('PAYMENT_PROVIDER: must be paystack or stripe in production (the fake provider is refused)');
  }
  if (e.JOBS_MODE === 'queue' && !e.REDIS_URL) throw new ConfigError('JOBS_MODE: queue needs REDIS_URL (BullMQ runs on Redis)');
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  if (e.JWT_SECRET !== undefined && e.JWT_SECRET.length < 32) throw new ConfigError('JWT_SECRET: must be at least 32 characters');

  const keys: Record<string, Buffer> = {};
  for (const entry of e.ENCRYPTION_PREVIOUS_KEYS.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [id, value] = entry.split(':');
    if (!id || !value) throw new ConfigError('ENCRYPTION_PREVIOUS_KEYS: expected "id:base64key" entries separated by commas');
    keys[id] = decodeKey('ENCRYPTION_PREVIOUS_KEYS', value);
  }
  keys[e.ENCRYPTION_KEY_ID] = decodeKey('ENCRYPTION_KEY', e.ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY);

  const provider = e.PAYMENT_PROVIDER ?? 'fake';
  if (provider === 'paystack' && !e.PAYSTACK_SECRET_KEY) throw new ConfigError('PAYSTACK_SECRET_KEY: required when PAYMENT_PROVIDER=paystack');
  if (provider === 'stripe' && !e.STRIPE_SECRET_KEY) throw new ConfigError('STRIPE_SECRET_KEY: required when PAYMENT_PROVIDER=stripe');

  const { ENCRYPTION_PREVIOUS_KEYS: _previous, ENCRYPTION_KEY: _key, ...rest } = e;
  return {
    ...rest,
    DATABASE_POOL_SIZE: e.DATABASE_POOL_SIZE ?? defaultPoolSize(e.WEB_CONCURRENCY),
    JWT_SECRET: e.JWT_SECRET ?? DEV_JWT_SECRET,
    ENCRYPTION_KEYS: keys,
    PAYMENT_PROVIDER: provider,
    JOBS_MODE: e.JOBS_MODE ?? (e.REDIS_URL ? 'queue' : 'inline'),
  };
}

/** loadConfig for a process entry point: a bad environment prints one line and exits 1. */
export function loadConfigOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

import { describe, expect, it } from 'vitest';
import { ConfigError, defaultPoolSize, loadConfig, loadDatabaseConfig } from '../../shell/config.js';

// Configuration is shell code, but pure enough to test without services.
const key = Buffer.alloc(32, 1).toString('base64');
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app@db:5432/nexus',
  JWT_SECRET: 'x'.repeat(40),
  ENCRYPTION_KEY: key,
  PAYMENT_PROVIDER: 'stripe',
  STRIPE_SECRET_KEY: 'sk_test_123',
};

const refusal = (env: Record<string, string | undefined>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('configuration', () => {
  it('starts with no environment at all, on development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ NODE_ENV: 'development', PORT: 3000, DATA_DIR: './.data', CURRENCY: 'USD', PAYMENT_PROVIDER: 'fake', CHECKOUT_TTL_SECONDS: 900, PAYMENT_DUE_SECONDS: 1800, ACCESS_TOKEN_TTL_SECONDS: 900, REFRESH_TOKEN_TTL_SECONDS: 604800, RATE_LIMIT_ENABLED: true });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.ENCRYPTION_KEYS[config.ENCRYPTION_KEY_ID]).toHaveLength(32);
  });

  it('accepts a complete production configuration', () => {
    expect(loadConfig(production).NODE_ENV).toBe('production');
  });

  it('refuses the embedded database in production', () => {
    expect(refusal({ ...production, DATABASE_URL: undefined })).toMatch(/^DATABASE_URL:/);
  });

  it('refuses a missing or short JWT_SECRET in production', () => {
    expect(refusal({ ...production, JWT_SECRET: undefined })).toMatch(/^JWT_SECRET:/);
    expect(refusal({ ...production, JWT_SECRET: 'short' })).toMatch(/^JWT_SECRET:/);
  });

  it('refuses a missing ENCRYPTION_KEY in production, and a key that is not 32 bytes anywhere', () => {
    expect(refusal({ ...production, ENCRYPTION_KEY: undefined })).toMatch(/^ENCRYPTION_KEY:/);
    expect(refusal({ ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toMatch(/^ENCRYPTION_KEY: must be 32 bytes/);
  });

  it('refuses the fake payment provider in production, named or by default', () => {
    expect(refusal({ ...production, PAYMENT_PROVIDER: 'fake' })).toMatch(/^PAYMENT_PROVIDER:/);
    expect(refusal({ ...production, PAYMENT_PROVIDER: undefined })).toMatch(/^PAYMENT_PROVIDER:/);
  });

  it('stops on a bad value with one line naming the variable', () => {
    expect(refusal({ PORT: 'eighty' })).toMatch(/^PORT: /);
    expect(refusal({ CURRENCY: 'dollars' })).toMatch(/^CURRENCY: /);
    expect(refusal({ DATABASE_URL: 'mysql://x' })).toMatch(/^DATABASE_URL: /);
    expect(refusal({ RATE_LIMIT_ENABLED: 'maybe' })).toMatch(/^RATE_LIMIT_ENABLED: /);
    expect(refusal({ PAYMENT_PROVIDER: 'paystack' })).toMatch(/^PAYSTACK_SECRET_KEY: /);
    expect(refusal({ CHECKOUT_TTL_SECONDS: '-5' })).toMatch(/^CHECKOUT_TTL_SECONDS: /);
  });

  it('loads retired encryption keys beside the current one', () => {
    const old = Buffer.alloc(32, 9).toString('base64');
    const config = loadConfig({ ENCRYPTION_KEY: key, ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_PREVIOUS_KEYS: `k1:${old}` });
    expect(Object.keys(config.ENCRYPTION_KEYS).sort()).toEqual(['k1', 'k2']);
    expect(config.ENCRYPTION_KEY_ID).toBe('k2');
  });

  it('sizes the database pool from the cores, shared over the API processes, unless DATABASE_POOL_SIZE says', () => {
    expect(defaultPoolSize(1, 2)).toBe(5);
    expect(defaultPoolSize(1, 8)).toBe(17);
    expect(defaultPoolSize(4, 8)).toBe(5);
    expect(defaultPoolSize(2, 2)).toBe(4);
    expect(loadConfig({}).DATABASE_POOL_SIZE).toBe(defaultPoolSize(1));
    expect(loadConfig({ WEB_CONCURRENCY: '2', DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' }).DATABASE_POOL_SIZE).toBe(defaultPoolSize(2));
    expect(loadConfig({ DATABASE_POOL_SIZE: '30' }).DATABASE_POOL_SIZE).toBe(30);
  });

  it('gives the database commands their settings alone: no secrets needed, the same rules for the rest', () => {
    expect(loadDatabaseConfig({ NODE_ENV: 'production', DATABASE_URL: production.DATABASE_URL, PAYMENT_PROVIDER: 'paystack' })).toEqual({
      NODE_ENV: 'production',
      DATABASE_URL: production.DATABASE_URL,
      DATA_DIR: './.data',
      DATABASE_POOL_SIZE: defaultPoolSize(),
    });
    expect(() => loadDatabaseConfig({ NODE_ENV: 'production' })).toThrow(/^DATABASE_URL: required in production/);
    expect(() => loadDatabaseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/^DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(loadDatabaseConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined(); // empty means unset: the embedded database
  });
});

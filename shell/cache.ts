import type { Redis } from 'ioredis';

/**
 * Response cache for catalog reads: Redis when configured, in-process otherwise.
 *
 * Invalidation is by generation: every cached key embeds the current generation of its namespace
 * (e.g. "products"), and a write bumps the generation (INCR) before it answers, so no reader can find
 * a stale entry afterwards. Old entries simply age out by TTL.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  generation(namespace: string): Promise<number>;
  bump(...namespaces: string[]): Promise<void>;
}

export function redisCache(redis: Redis, prefix: string): Cache {
  const genKey = (ns: string) => `${prefix}gen:${ns}`;
  return {
    kind: 'redis',
    get: (key) => redis.get(`${prefix}c:${key}`),
    async set(key, value, ttlSeconds) {
      await redis.set(`${prefix}c:${key}`, value, 'EX', ttlSeconds);
    },
    async generation(ns) {
      return Number((await redis.get(genKey(ns))) ?? 0);
    },
    async bump(...namespaces) {
      if (namespaces.length === 0) return;
      const pipeline = redis.multi();
      for (const ns of namespaces) pipeline.incr(genKey(ns));
      await pipeline.exec();
    },
  };
}

export function memoryCache(maxEntries = 5000, clock: () => number = () => performance.now()): Cache {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const generations = new Map<string, number>();
  return {
    kind: 'memory',
    async get(key) {
      const hit = entries.get(key);
      if (!hit) return null;
      if (hit.expiresAt <= clock()) {
        entries.delete(key);
        return null;
      }
      return hit.value;
    },
    async set(key, value, ttlSeconds) {
      // Map keeps insertion order: dropping the first entry drops the oldest.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { value, expiresAt: clock() + ttlSeconds * 1000 });
    },
    async generation(ns) {
      return generations.get(ns) ?? 0;
    },
    async bump(...namespaces) {
      for (const ns of namespaces) generations.set(ns, (generations.get(ns) ?? 0) + 1);
    },
  };
}

export function createCache(redis: Redis | null, prefix: string): Cache {
  return redis ? redisCache(redis, prefix) : memoryCache();
}

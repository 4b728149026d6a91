import type { Redis } from 'ioredis';
import { markRedisSuspect, redisUsable } from './redis.js';

/**
 * Response cache for catalog reads: Redis when configured, in-process otherwise. In process, the
 * generations are this process's own, right only while it is the one API process on its database:
 * `npm start` enforces that (shell/cluster.ts), and with more than one process REDIS_URL is required.
 *
 * Invalidation is by generation: every entry is stored with the generation of its namespace (e.g.
 * "products") that was current before its value was loaded, and is served only while that is still the
 * current generation. A write bumps the generation (INCR) before it answers, so no reader can find a
 * stale entry afterwards. Old entries are overwritten by the next miss or age out by TTL.
 *
 * A lookup is one round trip: the generation and the entry together (MGET), or, in Redis mode when this
 * process holds a copy of the entry, the generation alone. Values are bytes: a hit is sent as stored,
 * never parsed nor re-encoded.
 */
export interface Cache {
  readonly kind: 'redis' | 'memory';
  /** The namespace's current generation, and the entry under `key` with the generation it was stored for. */
  lookup(namespace: string, key: string): Promise<{ generation: number; stored: StoredEntry | null }>;
  /** Stores `value` under `key` for `generation` (the one a lookup returned before the value was loaded). */
  store(namespace: string, key: string, generation: number, value: Buffer, ttlSeconds: number): Promise<void>;
  generation(namespace: string): Promise<number>;
  bump(...namespaces: string[]): Promise<void>;
}

export interface StoredEntry {
  generation: number;
  value: Buffer;
}

const NEWLINE = 0x0a;

/** An entry as kept in Redis: its generation in decimal, a newline, then the value's bytes. */
function encodeEntry(generation: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${generation}\n`), value]);
}

function decodeEntry(raw: Buffer | null): StoredEntry | null {
  if (raw === null) return null;
  const end = raw.indexOf(NEWLINE);
  const generation = end > 0 ? Number(raw.subarray(0, end).toString('latin1')) : NaN;
  return Number.isInteger(generation) ? { generation, value: raw.subarray(end + 1) } : null;
}

/**
 * Redis, with a copy of recently used entries kept in this process. A lookup of a key held here asks Redis
 * only for the namespace's generation (a few bytes) and serves the local bytes when they were stored for
 * that generation: the same rule as the shared entry, so no process can serve what a bump has retired,
 * while a hot page's bytes are not carried out of Redis on every read. Otherwise one MGET reads the
 * generation and the shared entry together, and a current entry is kept here for next time.
 * A copy lives no longer than the shared entry's TTL, and the copies are bounded by `localBytes` (oldest
 * dropped first).
 */
export function redisCache(redis: Redis, prefix: string, localBytes = 32 * 2 ** 20, clock: () => number = () => performance.now()): Cache {
  const genKey = (ns: string) => `${prefix}gen:${ns}`;
  const local = new Map<string, StoredEntry & { expiresAt: number }>();
  let held = 0;
  const forget = (key: string) => {
    const entry = local.get(key);
    if (!entry) return;
    held -= entry.value.length;
    local.delete(key);
  };
  const keep = (key: string, entry: StoredEntry, ttlMs: number) => {
    forget(key);
    if (entry.value.length > localBytes / 16 || ttlMs <= 0) return;
    while (held + entry.value.length > localBytes && local.size > 0) forget(local.keys().next().value!);
    local.set(key, { ...entry, expiresAt: clock() + ttlMs });
    held += entry.value.length;
  };
  // Redis unreachable: fail at once (callers read through, or refuse), never serve a copy unchecked.
  const usable = () => {
    if (!redisUsable(redis)) throw new Error('Redis is not reachable');
  };
  // A command that fails (a timeout: Redis hangs) marks the connection suspect for a while, so the next
  // calls fail at once and writes are refused (shell/app.ts) instead of each waiting out the timeout.
  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    usable();
    try {
      return await command();
    } catch (error) {
      markRedisSuspect(redis);
      throw error;
    }
  };
  // A Redis that comes back (a restart, a failover) may have lost its generations: copies kept here are
  // dropped, and a generation that is missing starts from the clock (startGeneration), never from 0.
  let connected = redis.status === 'ready';
  redis.on('ready', () => {
    if (connected) {
      local.clear();
      held = 0;
    }
    connected = true;
  });
  /** The namespace's generation from its raw value; a missing one is started first. */
  const generationOf = async (ns: string, raw: Buffer | string | null): Promise<number> => {
    if (raw !== null) return Number(raw.toString());
    await redis.set(genKey(ns), startGeneration(), 'NX');
    return Number((await redis.get(genKey(ns))) ?? 0);
  };
  return {
    kind: 'redis',
    lookup: (ns, key) =>
      run(async () => {
        const entryKey = `${prefix}c:${ns}:${key}`;
        const copy = local.get(entryKey);
        if (copy && copy.expiresAt > clock()) {
          const generation = await generationOf(ns, await redis.get(genKey(ns)));
          if (copy.generation === generation) return { generation, stored: { generation, value: copy.value } };
        }
        forget(entryKey);
        const [rawGeneration, raw] = await redis.mgetBuffer(genKey(ns), entryKey);
        const generation = await generationOf(ns, rawGeneration ?? null);
        const stored = decodeEntry(raw ?? null);
        // A current shared entry is copied here for the rest of its life (one more round trip, once).
        if (stored !== null && stored.generation === generation) keep(entryKey, stored, await redis.pttl(entryKey));
        return { generation, stored };
      }),
    store: (ns, key, generation, value, ttlSeconds) =>
      run(async () => {
        const entryKey = `${prefix}c:${ns}:${key}`;
        await redis.set(entryKey, encodeEntry(generation, value), 'EX', ttlSeconds);
        keep(entryKey, { generation, value }, ttlSeconds * 1000);
      }),
    generation: (ns) => run(async () => generationOf(ns, await redis.get(genKey(ns)))),
    bump: (...namespaces) =>
      run(async () => {
        if (namespaces.length === 0) return;
        const pipeline = redis.multi();
        for (const ns of namespaces) pipeline.set(genKey(ns), startGeneration(), 'NX').incr(genKey(ns));
        const results = await pipeline.exec();
        const failed = results?.find(([error]) => error !== null)?.[0];
        if (failed) throw failed;
      }),
  };
}

/**
 * Where a missing generation starts: the clock in microseconds. Generations only ever grow, even across a
 * Redis that restarts empty: a value it had before is behind the clock unless it was bumped more than a
 * million times a second, so no entry stored before (in Redis or copied in a process) can match again.
 */
function startGeneration(): string {
  return String(Date.now() * 1000);
}

export function memoryCache(maxEntries = 5000, clock: () => number = () => performance.now()): Cache {
  const entries = new Map<string, StoredEntry & { expiresAt: number }>();
  const generations = new Map<string, number>();
  return {
    kind: 'memory',
    async lookup(ns, key) {
      const generation = generations.get(ns) ?? 0;
      const hit = entries.get(`${ns}:${key}`);
      if (!hit) return { generation, stored: null };
      if (hit.expiresAt <= clock()) {
        entries.delete(`${ns}:${key}`);
        return { generation, stored: null };
      }
      return { generation, stored: { generation: hit.generation, value: hit.value } };
    },
    async store(ns, key, generation, value, ttlSeconds) {
      // Map keeps insertion order: dropping the first entry drops the oldest.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.delete(`${ns}:${key}`);
      entries.set(`${ns}:${key}`, { generation, value, expiresAt: clock() + ttlSeconds * 1000 });
    },
    async generation(ns) {
      return generations.get(ns) ?? 0;
    },
    async bump(...namespaces) {
      for (const ns of namespaces) generations.set(ns, (generations.get(ns) ?? 0) + 1);
    },
  };
}

/** A cache that never stores: every catalog read goes to the database (benchmarks and query counts use it). */
export function noCache(): Cache {
  return {
    kind: 'memory',
    lookup: async () => ({ generation: 0, stored: null }),
    store: async () => undefined,
    generation: async () => 0,
    bump: async () => undefined,
  };
}

export function createCache(redis: Redis | null, prefix: string): Cache {
  return redis ? redisCache(redis, prefix) : memoryCache();
}

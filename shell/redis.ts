import { Redis } from 'ioredis';

/**
 * The Redis client of an API process, a worker or a script (BullMQ makes its own connections).
 *
 * Auto-pipelining: the commands issued in one turn of the event loop (one per request being answered, on
 * a busy server: catalog lookups, auth facts, rate-limit counters) leave in one write and come back in one
 * read, instead of one socket write each. Order per connection is kept, so nothing about their meaning
 * changes. A command fails after one second (commandTimeout) or two reconnection attempts, whichever comes
 * first, instead of waiting for Redis to come back; connection errors are reported by readiness, and
 * ioredis reconnects by itself.
 */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, commandTimeout: COMMAND_TIMEOUT_MS });
  redis.on('error', () => undefined);
  redisUsable(redis);
  return redis;
}

export const COMMAND_TIMEOUT_MS = 1000;

const trackers = new WeakMap<Redis, () => boolean>();
const suspectUntil = new WeakMap<Redis, number>();

/** How long a client stays unusable after one of its commands failed (say, timed out on a Redis that hangs). */
export const SUSPECT_MS = 5000;

/** Marks the client unusable for SUSPECT_MS: a command failed although the connection looks up. */
export function markRedisSuspect(redis: Redis, now = Date.now()): void {
  suspectUntil.set(redis, now + SUSPECT_MS);
}

/**
 * Whether commands sent to this client now can be answered: it is connected, or it is still making its
 * first connection (commands wait for it). Once a connection has failed or dropped, false until it is
 * back, so callers fall back at once (the cache reads through; writes are refused before anything is
 * written, see shell/app.ts) instead of each waiting out the timeout. Also false for a while after a
 * command failed on a connection that looks up (markRedisSuspect): a Redis that hangs.
 */
export function redisUsable(redis: Redis): boolean {
  let usable = trackers.get(redis);
  if (!usable) {
    // Watched from its creation (connectRedis), a client is settled by its first ready or error. Met later
    // (a client made elsewhere), anything but a first connection in progress has settled.
    let settled = !['wait', 'connecting', 'connect'].includes(redis.status);
    const settle = () => {
      settled = true;
    };
    redis.once('ready', settle);
    redis.once('error', settle);
    redis.once('close', settle);
    usable = () => redis.status === 'ready' || (!settled && redis.status !== 'end');
    trackers.set(redis, usable);
  }
  return usable() && (suspectUntil.get(redis) ?? 0) <= Date.now();
}

import { Redis } from 'ioredis';

/**
 * The Redis client of an API process, a worker or a script (BullMQ makes its own connections).
 *
 * Auto-pipelining: the commands issued in one turn of the event loop (one per request being answered, on
 * a busy server: catalog lookups, rate-limit counters) leave in one write and come back in one read,
 * instead of one socket write each. Order per connection is kept, so nothing about their meaning changes.
 * A command fails after two reconnection attempts instead of waiting forever (callers fall back or answer 503);
 * connection errors are reported by readiness, and ioredis reconnects by itself.
 */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', () => undefined);
  return redis;
}

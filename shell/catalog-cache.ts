import { hash } from 'node:crypto';
import type { Cache } from './cache.js';
import type { Logger } from './context.js';

/**
 * Read-through cache of catalog responses (product list and detail) on top of ctx.cache.
 *
 * Only public views are stored: a response is cached when the loader says it is what any anonymous
 * caller would get, so an owner's or admin's view of an inactive product is never cached nor served
 * from the cache to anyone.
 *
 * Entries carry the generation of the 'products' namespace, read BEFORE the database (in the same round
 * trip as the entry): a reader that loaded a row before a write stores it for the old generation, which
 * the write's bump has already retired, so no reader can find stale data once a write has answered.
 * A hit is the stored JSON bytes, sent as they are: no database, no parsing, no serializing.
 */

export const CATALOG_NAMESPACE = 'products';
export const CATALOG_TTL_SECONDS = 60;

export type CatalogRead<T> = { hit: true; json: Buffer } | { hit: false; body: T };

export async function readThroughCatalog<T>(
  cache: Cache,
  log: Logger,
  /** What is read ("list", "detail") and everything the response depends on, normalized. */
  view: string,
  parts: Record<string, unknown>,
  load: () => Promise<{ body: T; cacheable: boolean }>,
): Promise<CatalogRead<T>> {
  const key = `${view}:${digest(parts)}`;
  let generation: number | null;
  try {
    const found = await cache.lookup(CATALOG_NAMESPACE, key);
    if (found.stored !== null && found.stored.generation === found.generation) return { hit: true, json: found.stored.value };
    generation = found.generation;
  } catch (error) {
    // A cache outage must not take the catalog down: read the database and store nothing.
    log.warn({ err: error }, 'catalog cache unavailable; reading through');
    generation = null;
  }
  const { body, cacheable } = await load();
  if (cacheable && generation !== null) {
    await cache
      .store(CATALOG_NAMESPACE, key, generation, Buffer.from(JSON.stringify(body)), CATALOG_TTL_SECONDS)
      .catch((error: unknown) => log.warn({ err: error }, 'catalog cache write failed'));
  }
  return { hit: false, body };
}

/** Invalidates every cached catalog response; call after a catalog write commits, before answering. */
export async function invalidateCatalog(cache: Cache): Promise<void> {
  await cache.bump(CATALOG_NAMESPACE);
}

/** A stable digest of the key parts: property order does not matter, undefined values are dropped. */
function digest(parts: Record<string, unknown>): string {
  const normalized = Object.keys(parts)
    .filter((k) => parts[k] !== undefined)
    .sort()
    .map((k) => [k, parts[k]]);
  // One-shot hash: no Hash object per request on the hot path of every catalog read.
  return hash('sha256', JSON.stringify(normalized), 'base64url');
}

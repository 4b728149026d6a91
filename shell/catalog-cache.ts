import type { Cache } from './cache.js';
import { reportCacheOutage } from './cache-outage.js';
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
  /** The request as spelled (see lookupCatalogAlias); null when the caller may see more than the public view. */
  alias: string | null = null,
): Promise<CatalogRead<T>> {
  const key = `${view}:${digest(parts)}`;
  let generation: number | null;
  try {
    const found = await cache.lookup(CATALOG_NAMESPACE, key);
    if (found.stored !== null && found.stored.generation === found.generation) {
      if (alias !== null) void storeAlias(cache, log, alias, found.generation, found.stored.value);
      return { hit: true, json: found.stored.value };
    }
    generation = found.generation;
  } catch (error) {
    // A cache outage must not take the catalog down: read the database and store nothing.
    reportCacheOutage(log, 'catalog cache unavailable', error);
    generation = null;
  }
  const { body, cacheable } = await load();
  if (cacheable && generation !== null) {
    const json = Buffer.from(JSON.stringify(body));
    await Promise.all([
      cache.store(CATALOG_NAMESPACE, key, generation, json, CATALOG_TTL_SECONDS).catch((error: unknown) => reportCacheOutage(log, 'catalog cache write failed', error)),
      alias !== null ? storeAlias(cache, log, alias, generation, json) : undefined,
    ]);
  }
  return { hit: false, body };
}

/**
 * The answer last given to exactly this request, while the catalog is unchanged: the stored bytes, or null.
 *
 * An alias is the request as the client spelled it (method-less: the route, its base and its raw path and
 * query), stored beside the entry by readThroughCatalog with the same generation, only for answers any
 * anonymous caller gets. A route looks it up before parsing anything, so a repeated read costs one cache
 * round trip and no validation; a request never answered before, or answered with an error, has no alias
 * and goes the long way. Same invalidation as the entries: a write's bump retires every alias at once.
 */
export async function lookupCatalogAlias(cache: Cache, alias: string): Promise<Buffer | null> {
  try {
    const found = await cache.lookup(CATALOG_NAMESPACE, `alias:${alias}`);
    return found.stored !== null && found.stored.generation === found.generation ? found.stored.value : null;
  } catch {
    // A cache outage: the long way reads through and reports it.
    return null;
  }
}

function storeAlias(cache: Cache, log: Logger, alias: string, generation: number, json: Buffer): Promise<void> {
  return cache.store(CATALOG_NAMESPACE, `alias:${alias}`, generation, json, CATALOG_TTL_SECONDS).catch((error: unknown) => reportCacheOutage(log, 'catalog cache write failed', error));
}

/** Invalidates every cached catalog response; call after a catalog write commits, before answering. */
export async function invalidateCatalog(cache: Cache): Promise<void> {
  await cache.bump(CATALOG_NAMESPACE);
}

/**
 * The key parts as one stable string: property order does not matter, undefined values are dropped.
 * Not hashed: the parts are bounded by the query's validation (a few hundred bytes at most), and a hash
 * per read cost more CPU than the longer key costs Redis.
 */
function digest(parts: Record<string, unknown>): string {
  const normalized = Object.keys(parts)
    .filter((k) => parts[k] !== undefined)
    .sort()
    .map((k) => [k, parts[k]]);
  return JSON.stringify(normalized);
}

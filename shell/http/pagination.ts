import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { queryInt, text } from '../shapes/common.js';
import { baseUrl } from './base-url.js';

/** The HTTP side of lists: the shared query and page schemas, and the absolute URL of the list asked for. */

export const pageQuery = {
  limit: queryInt(1, 100).default(20).meta({ description: 'Page size, 1 to 100 in decimal digits (default 20)' }),
  cursor: text().min(1).max(1000).optional().meta({ description: 'Opaque, from a next or previous link' }),
};

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    results: z.array(item),
    next: z.string().nullable(),
    previous: z.string().nullable(),
  });
}

/**
 * The absolute URL of this request's list, which services turn into page links: its path and query on
 * the base URL (PUBLIC_URL, or the validated request host). Only the path and query of the
 * request-target are used, so an absolute request-target cannot point the links elsewhere.
 */
export function listUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const path = new URL(request.url, 'http://x');
  return `${baseUrl(request, publicUrl)}${path.pathname}${path.search}`;
}

/**
 * The absolute URL of a list at `path` with exactly these query parameters, in this order (undefined ones
 * left out): for lists whose URL must depend only on the parsed, normalised query (the cached catalog),
 * never on what else the request-target carried.
 */
export function canonicalListUrl(base: string, path: string, params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.append(name, String(value));
  const query = search.toString();
  return `${base}${path}${query ? `?${query}` : ''}`;
}

/**
 * Whether the request-target `url` spells exactly the list of `canonicalListUrl(…, path, params)`: the
 * same path, and the same `name=value` pairs byte for byte as that URL encodes them, in any order, where a
 * parameter at its default (`defaults`) may also be left out. Unknown or repeated parameters, other
 * spellings of a value (limit=020, q=%20lamp, another percent-encoding) and another path are not. So the
 * spellings of one list are few (orders of its few parameters), and junk cannot multiply them.
 */
export function spellsCanonicalList(url: string, path: string, params: Record<string, string | number | undefined>, defaults: Record<string, string | number>): boolean {
  const at = url.indexOf('?');
  if ((at === -1 ? url : url.slice(0, at)) !== path) return false;
  const required = new Set<string>();
  const allowed = new Set<string>();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const pair = new URLSearchParams([[name, String(value)]]).toString();
    allowed.add(pair);
    if (defaults[name] === undefined || String(defaults[name]) !== String(value)) required.add(pair);
  }
  const given = at === -1 || at === url.length - 1 ? [] : url.slice(at + 1).split('&');
  const seen = new Set<string>();
  for (const pair of given) {
    if (!allowed.has(pair) || seen.has(pair)) return false;
    seen.add(pair);
  }
  for (const pair of required) if (!seen.has(pair)) return false;
  return true;
}

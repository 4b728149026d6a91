import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpProblem } from './problem.js';

/** The HTTP side of lists: the shared query and page schemas, and the absolute URL of the list asked for. */

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(1000).optional(),
};

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    results: z.array(item),
    next: z.string().nullable(),
    previous: z.string().nullable(),
  });
}

/**
 * The absolute URL of this request's list, which services turn into page links: under PUBLIC_URL when it
 * is configured (its path prefix kept), else on the request's host.
 */
export function listUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const path = new URL(request.url, 'http://x');
  if (publicUrl) {
    const base = new URL(publicUrl);
    base.pathname = `${base.pathname.replace(/\/$/, '')}${path.pathname}`;
    base.search = path.search;
    return base.toString();
  }
  const host = request.host;
  if (typeof host !== 'string' || !VALID_HOST.test(host)) throw new HttpProblem('bad_request', 'The Host header is not a valid host[:port]; links cannot be built from it');
  return new URL(`${path.pathname}${path.search}`, `${request.protocol}://${host}`).toString();
}

/** host[:port]: a DNS name or IPv4 address, or a bracketed IPv6 address, and an optional port. */
const VALID_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

import type { FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';

/** host[:port]: a DNS name or IPv4 address, or a bracketed IPv6 address, and an optional port. */
const VALID_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * The base every absolute URL in a response is built on (pagination links, image URLs), without a
 * trailing slash: PUBLIC_URL when it is configured (its path prefix kept), whatever the request says;
 * else the request's scheme and Host, when that is a valid host[:port] (otherwise 400 bad_request, before
 * anything is written). Routes compute it and pass the plain string down; it is never stored: rows keep
 * keys, and URLs are built from them when a response is.
 */
export function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) {
    const base = new URL(publicUrl);
    return `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  }
  const host = request.host;
  if (typeof host !== 'string' || !VALID_HOST.test(host) || !parsesAsHost(host)) throw new HttpProblem('bad_request', 'The Host header is not a valid host[:port]; links cannot be built from it');
  // With TRUST_PROXY the scheme comes from X-Forwarded-Proto: only the two that make sense are taken.
  const protocol = request.protocol;
  if (protocol !== 'http' && protocol !== 'https') throw new HttpProblem('bad_request', 'The forwarded protocol is neither http nor https; links cannot be built from it');
  return `${protocol}://${host}`;
}

/** The URL parser agrees: a port up to 65535, an IPv4 address with octets up to 255, a well-formed IPv6 address. */
function parsesAsHost(host: string): boolean {
  try {
    return new URL(`http://${host}/`).host !== '';
  } catch {
    return false;
  }
}

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainFailure, problemDetails, problemOf, problemTable, type FieldProblem, type ProblemCode, type ProblemDetails } from '../../core/errors.js';

/**
 * RFC 9457 problem details for every error the API answers with. Below the routes, failures are domain
 * errors (DomainFailure, from core/errors.ts); HttpProblem is for what only HTTP knows (malformed JSON,
 * media types, framework errors). Both, and everything else, are mapped here.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** At most this many field problems are listed: a body with thousands of bad fields gets a small answer. */
export const MAX_FIELD_PROBLEMS = 20;

/** Longest request-target accepted (414 uri_too_long beyond). Node's 16 KiB header limit caps it anyway. */
export const MAX_URL_LENGTH = 8 * 1024;

export type ProblemBody = ProblemDetails;

export class HttpProblem extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string = problemTable[code].title,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  get status(): number {
    return problemTable[this.code].status;
  }

  body(): ProblemBody {
    const body = problemDetails(this.code, this.detail, this.extra);
    if (Array.isArray(body.errors) && body.errors.length > MAX_FIELD_PROBLEMS) body.errors = body.errors.slice(0, MAX_FIELD_PROBLEMS);
    return body;
  }
}

/** The HTTP problem for a domain error, with Retry-After for busy. */
export function domainProblem(failure: DomainFailure): HttpProblem {
  const { type, detail } = failure.error;
  const { code: _code, title: _title, status: _status, type: _type, detail: _detail, ...extra } = problemOf(failure.error);
  const retryAfter = failure.error.type === 'busy' ? String(failure.error.retryAfterSeconds ?? 1) : undefined;
  return new HttpProblem(type, detail ?? problemTable[type].title, extra, retryAfter ? { 'Retry-After': retryAfter } : {});
}

export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem.body());
}

const locationPrefix: Record<string, string> = { body: '', querystring: 'query.', params: 'params.', headers: 'headers.' };

function fieldProblems(error: FastifyError & { validation: { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }[] }): FieldProblem[] {
  const prefix = locationPrefix[error.validationContext ?? 'body'] ?? '';
  return error.validation.slice(0, MAX_FIELD_PROBLEMS).flatMap((issue) => {
    const base = issue.instancePath.split('/').filter(Boolean).join('.');
    const join = (p: string) => [prefix.replace(/\.$/, ''), base, p].filter(Boolean).join('.');
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
      return (issue.params.keys as string[]).slice(0, MAX_FIELD_PROBLEMS).map((key) => ({ path: join(key), message: 'Unknown field' }));
    }
    return [{ path: join('') || (prefix ? prefix.replace(/\.$/, '') : ''), message: issue.message ?? 'Invalid value' }];
  });
}

/** Maps whatever a handler or Fastify threw to a problem; null means "unexpected" (a 500). */
function toProblem(error: unknown): HttpProblem | null {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainFailure) return domainProblem(error);
  if (hasZodFastifySchemaValidationErrors(error)) {
    return new HttpProblem('validation_failed', 'The request does not match the schema', { errors: fieldProblems(error as never) });
  }
  const e = error as FastifyError;
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem('unsupported_media_type', 'This route does not accept that Content-Type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem('payload_too_large', 'The request body is larger than this route accepts');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem('malformed_json', 'The request body is not valid JSON');
    case 'FST_ERR_BAD_URL':
      return new HttpProblem('bad_request', 'The URL is not validly percent-encoded');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpProblem('uri_too_long', 'A path segment is longer than the server accepts');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpProblem('bad_request', 'The Content-Length header does not match the body');
    case 'FST_JWT_NO_AUTHORIZATION_IN_HEADER':
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID':
    case 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED':
    case 'FST_JWT_BAD_REQUEST':
    case 'FST_JWT_BAD_COOKIE_REQUEST':
      return new HttpProblem('unauthenticated', 'A valid access token is required');
    case 'FST_REQ_FILE_TOO_LARGE':
      return new HttpProblem('payload_too_large', 'The uploaded file is larger than this route accepts');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new HttpProblem('unsupported_media_type', 'This route takes multipart/form-data');
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new HttpProblem('bad_request', 'Too many parts in the multipart body');
  }
  if (e instanceof SyntaxError && (e as FastifyError).statusCode === 400) {
    return new HttpProblem('malformed_json', 'The request body is not valid JSON');
  }
  if (isResponseSerializationError(e as never)) return null;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 429) return new HttpProblem('rate_limited', 'Too many requests; retry later');
  if (status === 413) return new HttpProblem('payload_too_large');
  if (status === 415) return new HttpProblem('unsupported_media_type');
  if (status === 404) return new HttpProblem('not_found');
  if (status >= 400 && status < 500) return new HttpProblem('bad_request', e.message);
  return null;
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const problem = toProblem(error);
    if (problem) {
      if (problem.status >= 500) request.log.warn({ code: problem.code }, problem.detail);
      return sendProblem(reply, problem);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, new HttpProblem('internal_error', `An unexpected error occurred; quote request id ${request.id} when reporting it`, { request_id: request.id }));
  });

  // The router answers a known path with a method it does not take as "not found"; the routes seen here
  // tell 405 (with Allow) from 404.
  const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    if (route.url === '*' || route.url === '/*') return;
    const key = route.url.replace(/\/+$/, '');
    const entry = routes.get(key) ?? { pattern: routePattern(key), methods: new Set<string>() };
    routes.set(key, entry);
    for (const method of [route.method].flat()) {
      entry.methods.add(method);
      if (method === 'GET') entry.methods.add('HEAD');
    }
  });
  const allowedMethods = (path: string): string[] => {
    const allowed = new Set<string>();
    for (const { pattern, methods } of routes.values()) if (pattern.test(path)) for (const m of methods) allowed.add(m);
    return [...allowed].sort();
  };

  // Callback style: no promise per request on the hot path.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.raw.url !== undefined && request.raw.url.length > MAX_URL_LENGTH) {
      done(new HttpProblem('uri_too_long', `The request-target is longer than ${MAX_URL_LENGTH} characters`));
      return;
    }
    done();
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return sendProblem(reply, new HttpProblem('method_not_allowed', `${request.method} is not allowed on ${path}`, {}, { Allow: allowed.join(', ') }));
    }
    return sendProblem(reply, new HttpProblem('not_found', `No route ${request.method} ${path}`));
  });
}

/** '/api/v1/orders/:id' → a pattern for the concrete paths the router sends there (trailing slash optional). */
function routePattern(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment.startsWith(':')) return '[^/]+';
    if (segment === '*') return '.*';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}/?$`);
}

/**
 * Errors the router meets before any route or hook runs (Fastify's frameworkErrors): a URL that is not
 * validly percent-encoded, a path segment over the router's length limit.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('X-Request-Id', request.id);
  sendProblem(reply, toProblem(error) ?? new HttpProblem('bad_request'));
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (Fastify's clientErrorHandler): the answer
 * is written to the socket by hand, as problem+json, and the connection closed.
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = clientProblem(error);
  const body = JSON.stringify(problem.body());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function clientProblem(error: ConnectionError): HttpProblem {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpProblem('request_timeout', 'The request was not received in time');
    case 'HPE_HEADER_OVERFLOW': {
      // The limit covers the request line and the headers together: a request line over our URL limit
      // (or with no end in sight) is the URL's fault, anything else the headers'.
      // (typed as its JSON form; at run time it is the Buffer being parsed)
      const raw: unknown = error.rawPacket;
      const head = Buffer.isBuffer(raw) ? raw.subarray(0, MAX_URL_LENGTH + 32).toString('latin1') : '';
      const startsRequest = /^[A-Z]+ \S/.test(head);
      const lineEnd = head.indexOf('\r\n');
      if (startsRequest && (lineEnd === -1 || lineEnd > MAX_URL_LENGTH)) return new HttpProblem('uri_too_long', `The request-target is longer than ${MAX_URL_LENGTH} characters`);
      return new HttpProblem('headers_too_large', 'The request headers are larger than the server accepts');
    }
    default:
      return new HttpProblem('bad_request', 'The request is not valid HTTP');
  }
}

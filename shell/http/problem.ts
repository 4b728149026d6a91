import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainFailure, problemDetails, problemOf, problemTable, type FieldProblem, type ProblemCode, type ProblemDetails } from '../../core/errors.js';

/**
 * RFC 9457 problem details for every error the API answers with. Below the routes, failures are domain
 * errors (DomainFailure, from core/errors.ts); HttpProblem is for what only HTTP knows (malformed JSON,
 * media types, framework errors). Both, and everything else, are mapped here.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

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
    return problemDetails(this.code, this.detail, this.extra);
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
  return error.validation.flatMap((issue) => {
    const base = issue.instancePath.split('/').filter(Boolean).join('.');
    const join = (p: string) => [prefix.replace(/\.$/, ''), base, p].filter(Boolean).join('.');
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
      return (issue.params.keys as string[]).map((key) => ({ path: join(key), message: 'Unknown field' }));
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

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new HttpProblem('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

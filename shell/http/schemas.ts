import { z } from 'zod';
import { problemTable, type ProblemCode } from '../../core/errors.js';
import { emailText, uuidInput } from '../shapes/common.js';

/** Schema pieces every route shares, so the OpenAPI document and the validation come from one place. */

// The scalar pieces of response shapes (uuid, timestamp, money, currency) live in shell/shapes/common.ts,
// where services may import them too.
export const idParams = z.strictObject({ id: uuidInput() });
export const email = emailText();

export const fieldProblem = z.object({ path: z.string(), message: z.string() });

export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'A URI naming the problem type: https://nexus-commerce.dev/problems/<code>' }),
    title: z.string().meta({ description: 'A short summary of the problem type' }),
    status: z.number().int().meta({ description: 'The HTTP status code' }),
    detail: z.string().meta({ description: 'What went wrong in this occurrence, for people' }),
    code: z.string().meta({ description: "The problem's machine-readable code; each response lists the codes it can carry" }),
    errors: z.array(fieldProblem).optional().meta({ description: 'validation_failed: the fields at fault (at most 20)' }),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

/**
 * The extension that carries a response's problem codes from the route schema to the OpenAPI document,
 * where shell/http/openapi.ts turns it into an `enum` on `code` (and removes it).
 */
export const PROBLEM_CODES_KEY = 'x-problem-codes';

/** The extension by which a response schema names the response headers it carries (see ResponseHeaderName in openapi.ts). */
export const RESPONSE_HEADERS_KEY = 'x-response-headers';

/** "Slug already taken (`slug_taken`); Category in use (`category_in_use`)": a problem response's description from its codes. */
export const describeCodes = (codes: readonly ProblemCode[]): string => codes.map((code) => `${problemTable[code].title} (\`${code}\`)`).join('; ');

/** The statuses whose code goes without saying; 409 (and any other choice of codes) is spelled out with `problem(...)`. */
const codesByStatus = {
  400: ['validation_failed'],
  401: ['unauthenticated'],
  402: ['payment_failed'],
  403: ['forbidden'],
  404: ['not_found'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['idempotency_key_reused'],
  429: ['rate_limited'],
  502: ['provider_error'],
  503: ['busy'],
} satisfies Record<number, ProblemCode[]>;

export type PlainErrorStatus = keyof typeof codesByStatus;

/**
 * One error response answering exactly these problem codes (all of one status, as problemTable maps them),
 * for a route schema: `409: problem(['slug_taken', 'category_in_use'])`. The OpenAPI document lists the
 * codes as an enum on `code`, and describes the response by them unless `description` is given.
 * (A route with a JSON body also answers 400 malformed_json: the document adds it.)
 */
export function problem(codes: [ProblemCode, ...ProblemCode[]], description?: string): typeof problemSchema {
  const statuses = new Set(codes.map((code) => problemTable[code].status));
  if (statuses.size !== 1) throw new Error(`problem(${codes.join(', ')}): the codes answer different statuses`);
  return problemSchema.meta({ description: description ?? describeCodes(codes), [PROBLEM_CODES_KEY]: codes });
}

/**
 * Error responses by status, for route schemas: `response: { 200: X, ...errors(400, 401, 404) }`, each
 * with the one code of its status (400 validation_failed, 401 unauthenticated…). A 409 always names its
 * codes: `409: problem(['slug_taken'])`.
 */
export function errors<S extends PlainErrorStatus>(...statuses: S[]): Record<S, typeof problemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, problem(codesByStatus[s] as [ProblemCode])])) as Record<S, typeof problemSchema>;
}

/** Security requirement for routes that need a bearer token. */
export const bearer = [{ bearerAuth: [] }];

/** An empty body for POSTs that take no input: absent, empty, or {}. */
export const emptyBody = z.strictObject({}).nullish().meta({ examples: [{}] });

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x20-\x7e]+$/, 'must be 1-255 printable ASCII characters')
    .optional()
    .meta({
      description:
        'Optional, 1-255 printable ASCII characters, unique per request you mean (a UUID does): a retry with the same key and the same request ' +
        'answers the first response (Idempotent-Replayed: true) for 24 hours; the same key with another request is 422 idempotency_key_reused',
      example: '6f1c9a1e-8d3b-4a57-9d0e-2b7c4f8e1a90',
    }),
});

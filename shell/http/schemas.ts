import { z } from 'zod';
import { emailText, uuidInput } from '../shapes/common.js';

/** Schema pieces every route shares, so the OpenAPI document and the validation come from one place. */

// The scalar pieces of response shapes (uuid, timestamp, money, currency) live in shell/shapes/common.ts,
// where services may import them too.
export const idParams = z.strictObject({ id: uuidInput() });
export const email = emailText();

export const fieldProblem = z.object({ path: z.string(), message: z.string() });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(fieldProblem).optional(),
  })
  .loose()
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

const problemResponse = (description: string) => problemSchema.describe(description);

/** Error responses by status, for route schemas: `response: { 200: X, ...errors(400, 401, 404) }`. */
export function errors<S extends number>(...statuses: S[]): Record<S, typeof problemSchema> {
  const descriptions: Record<number, string> = {
    400: 'validation_failed / malformed_json',
    401: 'unauthenticated',
    402: 'payment_failed',
    403: 'forbidden',
    404: 'not_found',
    409: 'conflict (see code)',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    422: 'idempotency_key_reused',
    429: 'rate_limited',
    502: 'provider_error',
    503: 'busy',
  };
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(descriptions[s] ?? 'error')])) as Record<S, typeof problemSchema>;
}

/** Security requirement for routes that need a bearer token. */
export const bearer = [{ bearerAuth: [] }];

/** An empty body for POSTs that take no input: absent, empty, or {}. */
export const emptyBody = z.strictObject({}).nullish();

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be 1-255 printable ASCII characters')
    .optional(),
});

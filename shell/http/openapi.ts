import { problemTable, type ProblemCode } from '../../core/errors.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { describeCodes, PROBLEM_CODES_KEY, RESPONSE_HEADERS_KEY } from './schemas.js';

/**
 * What the OpenAPI document says beyond what the route schemas generate: carryResponseNotes runs on each
 * route (swagger `transform`, after the zod one), describeContract on the whole document (the last step
 * of `transformObject`, after the rate limits are described). Every statement here is about behaviour the
 * app has everywhere, so it is written once instead of in every route.
 *
 * - Error responses are application/problem+json, and list the problem codes they can carry as an `enum`
 *   on `code` (from the route's `errors(...)` / `problem([...])`); a JSON body adds 400 malformed_json,
 *   413 payload_too_large and 415 unsupported_media_type.
 * - Response headers: X-Request-Id on every response; Retry-After on every problem 429 and 503;
 *   Idempotent-Replayed where an Idempotency-Key is taken; any a response schema names (X-Cache).
 * - A POST that takes no input ("{} or nothing") does not require a body; a multipart form is its object.
 * - A path `id` is described by its resource; integers lose zod's ±2^53 "safe integer" bounds, which
 *   are not real limits; components nothing refers to (zod's unused *Input twins) are dropped.
 */

const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;

const headerComponents = {
  'X-Request-Id': {
    description:
      "The request's id, also in the server's logs: the caller's own X-Request-Id when it is 1-128 characters of A-Z a-z 0-9 . _ : -, else a new UUID. Quote it when reporting a problem",
    required: true,
    schema: { type: 'string', example: '3f0e7b8e-2a54-4c1b-9f55-6d7c1e0a9b42' },
  },
  'Idempotent-Replayed': {
    description: 'true when this is the stored answer to an earlier request with the same Idempotency-Key (nothing was done again); absent otherwise',
    schema: { type: 'string', enum: ['true'] },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 5 },
  },
  'X-Cache': {
    description: 'hit: answered from the catalog cache (at most 60 s old, invalidated by every catalog write); miss: read from the database',
    required: true,
    schema: { type: 'string', enum: ['hit', 'miss'] },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed in the window of the tightest limit on this route',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in that window',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until that window ends',
    schema: { type: 'integer', minimum: 0 },
  },
} as const;

export type ResponseHeaderName = keyof typeof headerComponents;

/** A response header by reference to components.headers (which describeContract fills with the ones in use). */
export const headerRef = (name: ResponseHeaderName) => ({ $ref: `#/components/headers/${name}` });

type Schema = Record<string, unknown>;
interface OpenApiMedia {
  schema?: Schema;
  example?: unknown;
}
interface OpenApiResponse {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, OpenApiMedia>;
}
interface OpenApiParameter {
  in: string;
  name: string;
  description?: string;
}
interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, OpenApiMedia> };
  responses?: Record<string, OpenApiResponse>;
}
/**
 * The operation extension that carries response notes (problem codes, header names) past @fastify/swagger,
 * which drops every sibling of a `$ref` in a response schema. Set per route by carryResponseNotes, read
 * and removed by describeContract.
 */
const RESPONSE_NOTES_KEY = 'x-response-notes';
const PROBLEM_REF = '#/components/schemas/Problem';
type ResponseNotes = Record<string, { codes?: ProblemCode[]; headers?: ResponseHeaderName[] }>;

/** The responses a JSON body can meet before the route runs: the body parser's. */
const JSON_BODY_PROBLEMS: [status: string, code: ProblemCode][] = [
  ['400', 'malformed_json'],
  ['413', 'payload_too_large'],
  ['415', 'unsupported_media_type'],
];

/**
 * The swagger `transform` step after the zod one, on each route's JSON schemas: a route with a JSON body
 * also answers what the body parser answers (400 malformed_json, 413, 415); then each response schema's
 * notes (PROBLEM_CODES_KEY, RESPONSE_HEADERS_KEY) move to the operation, where they survive until
 * describeContract.
 */
export function carryResponseNotes<T extends { schema?: object; url: string }>(transformed: T): T {
  if (!transformed.schema) return transformed;
  const schema = transformed.schema as { response?: Record<string, Schema>; body?: unknown; consumes?: string[] } & Record<string, unknown>;
  if (schema.response && schema.body !== undefined && (schema.consumes ?? ['application/json']).includes('application/json')) {
    for (const [status, code] of JSON_BODY_PROBLEMS) {
      const response = (schema.response[status] ??= { $ref: PROBLEM_REF, [PROBLEM_CODES_KEY]: [] });
      const codes = response[PROBLEM_CODES_KEY] as ProblemCode[] | undefined;
      if (!codes || codes.includes(code)) continue;
      const described = response.description === undefined || response.description === describeCodes(codes);
      response.description = described ? describeCodes([...codes, code]) : `${String(response.description)}; or ${describeCodes([code])}`;
      response[PROBLEM_CODES_KEY] = [...codes, code];
    }
  }
  const notes: ResponseNotes = {};
  for (const [status, response] of Object.entries(schema.response ?? {})) {
    const codes = response[PROBLEM_CODES_KEY] as ProblemCode[] | undefined;
    const headers = response[RESPONSE_HEADERS_KEY] as ResponseHeaderName[] | undefined;
    if (codes) notes[status] = { ...notes[status], codes };
    if (headers) notes[status] = { ...notes[status], headers };
    delete response[PROBLEM_CODES_KEY];
    delete response[RESPONSE_HEADERS_KEY];
  }
  if (Object.keys(notes).length > 0) schema[RESPONSE_NOTES_KEY] = notes;
  return transformed;
}

export type OpenApiDocument = {
  paths?: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Schema>; headers?: Record<string, unknown> } & Record<string, unknown>;
} & Record<string, unknown>;

/** The document-wide statements listed at the top of this file; throws on a route whose problem responses name no codes. */
export function describeContract(doc: OpenApiDocument): OpenApiDocument {
  const usedCodes = new Set<ProblemCode>();
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(methods)) {
      const where = `${method.toUpperCase()} ${path}`;
      const notes = ((operation as Record<string, unknown>)[RESPONSE_NOTES_KEY] ?? {}) as ResponseNotes;
      delete (operation as Record<string, unknown>)[RESPONSE_NOTES_KEY];
      describePathId(path, operation);
      const responses = (operation.responses ??= {});

      const variants = operation.requestBody?.content?.['application/json']?.schema?.anyOf as Schema[] | undefined;
      const noInput = variants?.some((v) => v.type === 'null') && variants.every((v) => v.type === 'null' || Object.keys((v.properties as object | undefined) ?? {}).length === 0);
      if (operation.requestBody && noInput) operation.requestBody.required = false;
      // A multipart body is read as a stream by the handler, so its schema also lets "nothing" through the
      // validator; the form a client sends is the object alone.
      const form = operation.requestBody?.content?.['multipart/form-data'];
      const parts = (form?.schema?.anyOf as Schema[] | undefined)?.filter((v) => v.type !== 'null');
      if (form && parts?.length === 1) form.schema = parts[0];

      for (const [status, response] of Object.entries(responses)) {
        const codes = problemCodes(response, notes[status]?.codes, where, status);
        if (codes !== null) describeProblem(response, codes, usedCodes);
      }

      const idempotent = (operation.parameters ?? []).some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      for (const [status, response] of Object.entries(responses)) {
        const named = notes[status]?.headers ?? [];
        for (const name of named) if (!(name in headerComponents)) throw new Error(`OpenAPI: ${where} ${status}: unknown response header ${name} (shell/http/openapi.ts)`);
        const problem = isProblem(response);
        response.headers = {
          'X-Request-Id': headerRef('X-Request-Id'),
          ...response.headers,
          ...Object.fromEntries(named.map((name) => [name, headerRef(name)])),
          ...(problem && (status === '429' || status === '503') ? { 'Retry-After': headerRef('Retry-After') } : {}),
          ...(idempotent && replayable(status) ? { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } : {}),
        };
      }
      operation.responses = sortedByStatus(responses);
    }
  }
  stripSafeIntegerBounds(doc);
  const components = (doc.components ??= {});
  const problems = [...usedCodes].sort().map((code) => [problemComponentName(code), problemComponent(code)] as const);
  components.schemas = { ...components.schemas, ...Object.fromEntries(problems) };
  components.headers = { ...headerComponents };
  dropUnusedComponents(doc);
  return doc;
}

/**
 * A stored outcome is replayed with its status: successes and the refusals the service gives. Never those
 * answered before it runs (401, 403 by role, 413, 415, 422) or never stored (429, 5xx).
 */
const replayable = (status: string) => Number(status) < 500 && !['401', '403', '413', '415', '422', '429'].includes(status);

function isProblem(response: OpenApiResponse): boolean {
  return response.content?.[PROBLEM_CONTENT_TYPE] !== undefined;
}

/**
 * The problem codes of an error response built by errors()/problem(), or null for a response that is not
 * a problem (a success, or /readyz's 503 body). A problem without codes is a mistake in the route: refused.
 */
function problemCodes(response: OpenApiResponse, codes: ProblemCode[] | undefined, where: string, status: string): ProblemCode[] | null {
  const media = response.content?.['application/json'] ?? Object.values(response.content ?? {})[0];
  if (media?.schema?.$ref !== PROBLEM_REF) return null;
  if (!codes?.length) throw new Error(`OpenAPI: ${where} ${status} is a problem without codes: use errors(${status}) or problem([...]) (shell/http/schemas.ts)`);
  const wrong = codes.filter((code) => String(problemTable[code]?.status) !== status);
  if (wrong.length) throw new Error(`OpenAPI: ${where} ${status} lists ${wrong.join(', ')}, which answer another status (core/errors.ts problemTable)`);
  return codes;
}

/**
 * problem+json whose `code` is one of its codes: one component per code (`SlugTakenProblem`: a Problem with
 * `code` an enum of that one code, and the fields that code carries), a oneOf of them when there are several.
 */
function describeProblem(response: OpenApiResponse, codes: ProblemCode[], used: Set<ProblemCode>): void {
  for (const code of codes) used.add(code);
  const refs = codes.map((code) => ({ $ref: `#/components/schemas/${problemComponentName(code)}` }));
  response.content = { [PROBLEM_CONTENT_TYPE]: { schema: refs.length === 1 ? refs[0]! : { oneOf: refs } } };
}

/** slug_taken → SlugTakenProblem */
const problemComponentName = (code: ProblemCode) => `${code.replace(/(^|_)([a-z])/g, (_m, _sep: string, letter: string) => letter.toUpperCase())}Problem`;

const shortfall = {
  type: 'object',
  required: ['product_id', 'requested', 'available'],
  properties: { product_id: { type: 'string', format: 'uuid' }, requested: { type: 'integer' }, available: { type: 'integer' } },
};

/** The fields some codes carry beyond the Problem's own (core/errors.ts DomainError). */
const problemExtras: Partial<Record<ProblemCode, { required?: string[]; properties: Record<string, Schema> }>> = {
  validation_failed: { required: ['errors'], properties: {} },
  insufficient_stock: { required: ['items'], properties: { items: { type: 'array', items: shortfall, description: 'Each product short of stock: units asked for and units left' } } },
  product_unavailable: { properties: { product_id: { type: 'string', format: 'uuid', description: 'The product that is not for sale' } } },
};

function problemComponent(code: ProblemCode): Schema {
  const extra = problemExtras[code];
  return {
    description: `${problemTable[code].title}: a Problem with code ${code} (status ${problemTable[code].status})`,
    allOf: [
      { $ref: PROBLEM_REF },
      {
        type: 'object',
        required: ['code', ...(extra?.required ?? [])],
        properties: { code: { type: 'string', enum: [code] }, ...extra?.properties },
      },
    ],
  };
}

/** '/api/v1/cart-items/{id}/' → "The cart item's id". */
function describePathId(path: string, operation: OpenApiOperation): void {
  const segments = path.split('/').filter(Boolean);
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in !== 'path' || parameter.name !== 'id' || parameter.description) continue;
    const collection = segments[segments.indexOf('{id}') - 1] ?? 'resource';
    const singular = collection.replace(/ies$/, 'y').replace(/s$/, '').replace(/-/g, ' ');
    parameter.description = `The ${singular}'s id (a UUID, in any letter case)`;
  }
}

const statusOrder = (status: string) => (/^\d+$/.test(status) ? Number(status) : 1000);
function sortedByStatus(responses: Record<string, OpenApiResponse>): Record<string, OpenApiResponse> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => statusOrder(a) - statusOrder(b)));
}

/** zod writes `.int()` as minimum/maximum ±(2^53 - 1): a JavaScript detail, not a limit of the API. */
function stripSafeIntegerBounds(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) stripSafeIntegerBounds(item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  if (object.minimum === -SAFE_INTEGER_BOUND) delete object.minimum;
  if (object.maximum === SAFE_INTEGER_BOUND) delete object.maximum;
  for (const child of Object.values(object)) stripSafeIntegerBounds(child);
}

/** Removes component schemas and headers that nothing outside them refers to (directly or through other components). */
function dropUnusedComponents(doc: OpenApiDocument): void {
  const components = doc.components ?? {};
  const refsIn = (value: unknown, found: Set<string>): Set<string> => {
    JSON.stringify(value, (key, v: unknown) => {
      if (key === '$ref' && typeof v === 'string') found.add(v);
      return v;
    });
    return found;
  };
  const { components: _components, ...rest } = doc;
  const used = refsIn(rest, new Set());
  // Follow references between components until nothing new turns up.
  for (let size = -1; size !== used.size; ) {
    size = used.size;
    for (const [kind, entries] of Object.entries(components)) {
      if (kind === 'securitySchemes' || !entries || typeof entries !== 'object') continue;
      for (const [name, entry] of Object.entries(entries as Record<string, unknown>)) if (used.has(`#/components/${kind}/${name}`)) refsIn(entry, used);
    }
  }
  for (const kind of ['schemas', 'headers'] as const) {
    const entries = components[kind];
    if (!entries) continue;
    for (const name of Object.keys(entries)) if (!used.has(`#/components/${kind}/${name}`)) delete entries[name];
  }
}

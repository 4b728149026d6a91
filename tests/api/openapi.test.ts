import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemTable } from '../../core/errors.js';
import { category, insertProduct, vendorWithProfile } from './product-fixtures.js';
import { createTestContext, listenOnFreePort, type TestContext } from '../support/harness.js';

/**
 * The OpenAPI document as a contract a client generator can use: the served document is the committed
 * openapi.json (so API changes show up in review), it is complete where generators and readers look
 * (operationIds, descriptions, examples, headers, problem codes), and a client generated from it with
 * openapi-typescript type-checks a program using openapi-fetch and talks to the running app.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const OPENAPI_FILE = join(ROOT, 'openapi.json');
const run = promisify(execFile);

type Schema = Record<string, unknown>;
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { in: string; name: string; description?: string }[];
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown; examples?: unknown }> };
  responses: Record<string, { description: string; headers?: Record<string, { $ref?: string }>; content?: Record<string, { schema: Schema }> }>;
}
interface Document {
  openapi: string;
  servers?: unknown[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; headers: Record<string, unknown> };
}

let ctx: TestContext;
let served: Document;

beforeAll(async () => {
  ctx = await createTestContext();
  const res = await ctx.request({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  served = res.json<Document>();
});

afterAll(async () => {
  await ctx?.close();
});

const operations = () =>
  Object.entries(served.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, path, method, op })));

/** The problem codes a response schema allows: its *Problem components' enums. */
function codesOf(schema: Schema): string[] {
  const refs = (schema.oneOf as Schema[] | undefined) ?? [schema];
  return refs.flatMap((ref) => {
    const name = String(ref.$ref).replace('#/components/schemas/', '');
    const parts = served.components.schemas[name]?.allOf as Schema[] | undefined;
    const own = parts?.[1] as { properties?: { code?: { enum?: string[] } } } | undefined;
    return own?.properties?.code?.enum ?? [];
  });
}

describe('openapi.json', () => {
  it('is the document the app serves (run `npm run openapi` after changing the API, and review the diff)', async () => {
    const committed = JSON.parse(await readFile(OPENAPI_FILE, 'utf8')) as Document;
    expect(served, 'openapi.json is out of date: run `npm run openapi` and commit the result').toEqual(committed);
    // Nothing from the environment: the committed document names no server.
    expect(committed.servers ?? []).toEqual([]);
  });
});

describe('the served OpenAPI document', () => {
  it('has a unique camelCase operationId and real response descriptions on every operation', () => {
    const ids = new Set<string>();
    for (const { where, op } of operations()) {
      expect(op.operationId, where).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(ids.has(op.operationId!), `${where}: ${op.operationId} twice`).toBe(false);
      ids.add(op.operationId!);
      expect(op.description, where).toBeTruthy();
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${where} ${status}`).not.toMatch(/^(Default Response)?$/);
      }
    }
    expect(ids.size).toBeGreaterThanOrEqual(54);
    for (const id of ['listProducts', 'getProduct', 'createOrder', 'refundPayment', 'login']) expect(ids, id).toContain(id);
  });

  it('describes every tag and parameter, and gives every JSON request body an example', () => {
    for (const tag of served.tags) expect(tag.description, tag.name).toBeTruthy();
    for (const { where, op } of operations()) {
      for (const parameter of op.parameters ?? []) expect(parameter.description, `${where} ${parameter.in} ${parameter.name}`).toBeTruthy();
      const json = op.requestBody?.content['application/json'];
      if (json) expect(json.example ?? json.examples, `${where} request example`).toBeDefined();
    }
  });

  it('lists on every error response the problem codes it can carry, each of its status', () => {
    for (const { where, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || !response.content?.['application/problem+json']) continue;
        const codes = codesOf(response.content['application/problem+json'].schema);
        expect(codes.length, `${where} ${status}`).toBeGreaterThan(0);
        for (const code of codes) expect(String(problemTable[code as keyof typeof problemTable]?.status), `${where} ${status} ${code}`).toBe(status);
        for (const code of codes) expect(response.description, `${where} ${status}`).toContain(code);
      }
      // A JSON body can always be malformed, too large or of another type.
      if (op.requestBody?.content['application/json']) {
        expect(codesOf(op.responses['400']!.content!['application/problem+json']!.schema), where).toContain('malformed_json');
        expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['413', '415']));
      }
    }
    const conflicts = (path: string, method: string) => codesOf(served.paths[path]![method]!.responses['409']!.content!['application/problem+json']!.schema);
    expect(conflicts('/api/v1/categories/{id}/', 'delete')).toEqual(['category_in_use']);
    expect(conflicts('/api/v1/orders/create/', 'post')).toEqual(expect.arrayContaining(['insufficient_stock', 'checkout_expired', 'idempotency_request_in_flight']));
    expect(conflicts('/api/v1/payments/{id}/refund/', 'post')).toEqual(['payment_not_refundable', 'idempotency_request_in_flight']);
  });

  it('documents X-Request-Id everywhere, Retry-After on 429 and 503, Idempotent-Replayed with Idempotency-Key, X-Cache on catalog reads', () => {
    const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
    for (const { where, op } of operations()) {
      const idempotent = (op.parameters ?? []).some((p) => p.in === 'header' && p.name === 'idempotency-key');
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.headers?.['X-Request-Id'], `${where} ${status}`).toEqual(header('X-Request-Id'));
        if ((status === '429' || status === '503') && response.content?.['application/problem+json']) expect(response.headers?.['Retry-After'], `${where} ${status}`).toEqual(header('Retry-After'));
        if (idempotent && status.startsWith('2')) expect(response.headers?.['Idempotent-Replayed'], `${where} ${status}`).toEqual(header('Idempotent-Replayed'));
        if (!idempotent) expect(response.headers?.['Idempotent-Replayed'], `${where} ${status}`).toBeUndefined();
      }
    }
    for (const path of ['/api/v1/products/', '/api/v1/products/{id}/']) expect(served.paths[path]!.get!.responses['200']!.headers?.['X-Cache']).toEqual(header('X-Cache'));
    expect(served.paths['/api/v1/categories/']!.get!.responses['200']!.headers?.['X-Cache']).toBeUndefined();
  });

  it('has no ±2^53 integer bounds and no component nothing refers to', () => {
    const text = JSON.stringify(served);
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    for (const kind of ['schemas', 'headers'] as const) {
      for (const name of Object.keys(served.components[kind])) expect(text, `${kind}/${name}`).toContain(`"#/components/${kind}/${name}"`);
    }
    expect(Object.keys(served.components.schemas).filter((name) => name.endsWith('Input'))).toEqual([]);
  });
});

// The program type-checked against the generated types, then run against the app. `run` is what the
// test calls; `neverCalled` holds the calls the types must refuse.
const clientProgram = `import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type Product = components['schemas']['Product'];
type LoginProblemCode = NonNullable<Awaited<ReturnType<typeof login>>['error']>['code'];

const login = (client: ReturnType<typeof createClient<paths>>, email: string, password: string) =>
  client.POST('/api/v1/login/', { body: { email, password } });

export async function run(baseUrl: string, email: string, password: string, productId: string) {
  const client = createClient<paths>({ baseUrl });
  const page = await client.GET('/api/v1/products/', { params: { query: { limit: '5', ordering: 'price' } } });
  const first: Product | undefined = page.data?.results[0];
  const cache = page.response.headers.get('x-cache');

  const one = await client.GET('/api/v1/products/{id}/', { params: { path: { id: productId } } });
  const price: number | undefined = one.data?.unit_price;

  const session = await login(client, email, password);
  const access: string = session.data?.access ?? '';
  const me = await client.GET('/api/v1/users/me/', { headers: { authorization: \`Bearer \${access}\` } });

  const refused = await login(client, email, 'not-the-password');
  const code: LoginProblemCode | undefined = refused.error?.code;

  const missing = await client.GET('/api/v1/products/{id}/', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
  const missingCode: 'validation_failed' | 'unauthenticated' | 'not_found' | 'rate_limited' | undefined = missing.error?.code;

  return {
    listed: page.response.status, firstName: first?.name, cache,
    price, loggedIn: session.response.status, tokenType: session.data?.token_type, me: me.data?.email, role: me.data?.role,
    refused: refused.response.status, code, missing: missing.response.status, missingCode,
    requestId: missing.response.headers.get('x-request-id'),
  };
}

export function neverCalled(client: ReturnType<typeof createClient<paths>>) {
  // @ts-expect-error a login body needs a password
  void client.POST('/api/v1/login/', { body: { email: 'a@example.com' } });
  // @ts-expect-error no such path
  void client.GET('/api/v1/no-such-thing/');
  // @ts-expect-error a product id is a path parameter
  void client.GET('/api/v1/products/{id}/');
  // @ts-expect-error login never answers not_found
  const notALoginCode: LoginProblemCode = 'not_found';
  return notALoginCode;
}
`;

describe('a client generated from openapi.json (openapi-typescript + openapi-fetch)', () => {
  // Inside the repository so that the program resolves openapi-fetch from node_modules, under the
  // ignored node_modules/.cache so that nothing shows up in git.
  const dir = join(ROOT, 'node_modules', '.cache', `openapi-client-test-${randomBytes(4).toString('hex')}`);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('type-checks a program using it, and the program works against the running app', async () => {
    await mkdir(dir, { recursive: true });
    const ast = await openapiTS(new URL(`file://${OPENAPI_FILE}`), { silent: true });
    const types = astToString(ast);
    expect(types).toContain('operations');
    // schema.ts, not .d.ts: skipLibCheck then skips the libraries' declarations (fast) but not the generated types.
    await writeFile(join(dir, 'schema.ts'), types);
    await writeFile(join(dir, 'client.ts'), clientProgram);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2023', lib: ['ES2023', 'DOM'], module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['schema.ts', 'client.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '--noEmit', '-p', join(dir, 'tsconfig.json')]).then(
      () => '',
      (error: { stdout?: string; message: string }) => error.stdout || error.message,
    );
    expect(checked, 'the generated client does not type-check').toBe('');

    // The same program, against the app listening on a free port.
    const vendor = await vendorWithProfile(ctx);
    const cat = await category(ctx);
    const productId = await insertProduct(ctx, vendor.vendorId, cat.id, { name: 'Brass desk lamp', unit_price: 4500 });
    const customer = await ctx.user('customer');
    const base = (await listenOnFreePort(ctx)).replace(/\/api\/v1$/, '');
    const program = (await import(join(dir, 'client.ts'))) as { run(base: string, email: string, password: string, productId: string): Promise<Record<string, unknown>> };
    const result = await program.run(base, customer.email, customer.password, productId);
    expect(result).toMatchObject({
      listed: 200,
      firstName: 'Brass desk lamp',
      cache: expect.stringMatching(/^(hit|miss)$/),
      price: 4500,
      loggedIn: 200,
      tokenType: 'Bearer',
      me: customer.email,
      role: 'customer',
      refused: 401,
      code: 'invalid_credentials',
      missing: 404,
      missingCode: 'not_found',
      requestId: expect.any(String),
    });
  }, 60_000);
});

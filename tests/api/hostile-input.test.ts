import { createHmac, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmedCheckout, createProduct, createVendor, type Catalog, type ProductFixture } from '../support/commerce-fixtures.js';
import { createTestContext, listenOnFreePort, type TestContext, type TestUser } from '../support/harness.js';

/**
 * API.md, Conventions, "Hostile input gets a 4xx, never a 5xx, and nothing is written", and the rules
 * beside it: framework errors as problem+json, 405 with Allow, case-insensitive Bearer, strict access
 * tokens, and Cache-Control: no-store on private data.
 */

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

function problemOf(res: LightMyRequestResponse): Problem {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  return res.json<Problem>();
}

/** A 400 validation_failed naming exactly this field. */
function expectFieldRefused(res: LightMyRequestResponse, path: string): void {
  expect(res.statusCode, res.body).toBe(400);
  const problem = problemOf(res);
  expect(problem.code).toBe('validation_failed');
  expect(problem.errors?.map((e) => e.path)).toEqual([path]);
}

const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\ud800b';

/** An HS256 JWT signed with the app's secret, with exactly these claims (the app would never issue some of them). */
function signedToken(secret: string, claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** Sends raw bytes to a listening server and reads the whole answer (the server closes the connection). */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.setTimeout(10_000, () => reject(new Error('no answer')));
    socket.write(bytes);
  });
}

/** Status line, headers and parsed body of a raw HTTP/1.1 answer. */
function parseRaw(answer: string): { status: number; headers: Record<string, string>; body: Problem } {
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) as Problem };
}

describe('hostile input', () => {
  let ctx: TestContext;
  let customer: TestUser;
  let catalog: Catalog;
  let product: ProductFixture;

  beforeAll(async () => {
    ctx = await createTestContext();
    customer = await ctx.user('customer');
    catalog = await createVendor(ctx);
    product = await createProduct(ctx.db, catalog, { stock: 50 });
  });

  afterAll(async () => {
    await ctx.close();
  });

  const count = async (table: 'users' | 'refresh_tokens' | 'checkouts' | 'payments' | 'vendors' | 'categories') =>
    Number((await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  describe('text with U+0000 or a lone surrogate is 400 validation_failed at that field, and nothing is written', () => {
    it('refuses it in the login email and password, and no session is made', async () => {
      const before = await count('refresh_tokens');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email: `${customer.email}\u0000`, password: customer.password } }), 'email');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email: customer.email, password: LONE_SURROGATE } }), 'password');
      expect(await count('refresh_tokens')).toBe(before);
    });

    it('refuses it in sign-up full_name and email, and no user is created', async () => {
      const before = await count('users');
      const signUp = (fields: Record<string, string>) =>
        ctx.request({ method: 'POST', url: '/api/v1/users/', payload: { email: `new-${randomUUID()}@example.test`, password: 'long-enough-password', ...fields } });
      expectFieldRefused(await signUp({ full_name: NUL }), 'full_name');
      expectFieldRefused(await signUp({ full_name: LONE_SURROGATE }), 'full_name');
      expectFieldRefused(await signUp({ email: 'nul\u0000@example.test' }), 'email');
      expect(await count('users')).toBe(before);
    });

    it('refuses it in the catalog query (q, category, cursor) and in a path parameter', async () => {
      expectFieldRefused(await ctx.request({ method: 'GET', url: '/api/v1/products/?q=a%00b' }), 'query.q');
      expectFieldRefused(await ctx.request({ method: 'GET', url: '/api/v1/products/?category=a%00b' }), 'query.category');
      expectFieldRefused(await ctx.request({ method: 'GET', url: '/api/v1/categories/?cursor=a%00b' }), 'query.cursor');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/payments/webhooks/a%00b/', payload: {} }), 'params.provider');
      // Without the NUL the same search is an ordinary, empty, answer.
      expect((await ctx.request({ method: 'GET', url: '/api/v1/products/?q=ab' })).statusCode).toBe(200);
    });

    it('refuses it in a vendor profile and a category, and nothing is created', async () => {
      const [vendors, categories] = [await count('vendors'), await count('categories')];
      const vendorUser = await ctx.user('vendor');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/vendors/', payload: { business_name: LONE_SURROGATE }, as: vendorUser }), 'business_name');
      expectFieldRefused(
        await ctx.request({ method: 'POST', url: '/api/v1/vendors/', payload: { business_name: 'Shop', support_email: 'help\u0000@shop.test' }, as: vendorUser }),
        'support_email',
      );
      const admin = await ctx.user('admin');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/categories/', payload: { name: 'Tools', description: NUL }, as: admin }), 'description');
      expect([await count('vendors'), await count('categories')]).toEqual([vendors, categories]);
    });

    it('refuses it in a checkout address and phone, and the checkout keeps no address', async () => {
      const buyer = await ctx.user('customer');
      const address = { line1: '1 Main Street', city: 'Springfield', postal_code: '12345', country: 'US' };
      expectFieldRefused(
        await ctx.request({ method: 'PATCH', url: '/api/v1/checkout/update/', payload: { shipping_address: { ...address, line1: NUL } }, as: buyer }),
        'shipping_address.line1',
      );
      expectFieldRefused(await ctx.request({ method: 'PATCH', url: '/api/v1/checkout/update/', payload: { contact_phone: '+1 555\u0000' }, as: buyer }), 'contact_phone');
      const checkout = await ctx.request({ method: 'GET', url: '/api/v1/checkout/', as: buyer });
      expect(checkout.json()).toMatchObject({ shipping_address: null, contact_phone: null });
    });

    it('refuses it in a payment method and reference, and no payment is written', async () => {
      const buyer = await ctx.user('customer');
      await confirmedCheckout(ctx, buyer, [{ product_id: product.id, quantity: 1 }]);
      const order = await ctx.request({ method: 'POST', url: '/api/v1/orders/create/', as: buyer });
      expect(order.statusCode).toBe(201);
      const before = await count('payments');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/payments/initiate/', payload: { order_id: order.json<{ id: string }>().id, method: NUL }, as: buyer }), 'method');
      expectFieldRefused(await ctx.request({ method: 'POST', url: '/api/v1/payments/confirm/', payload: { reference: NUL }, as: buyer }), 'reference');
      expect(await count('payments')).toBe(before);
    });
  });

  describe('JSON bodies', () => {
    const nested = (depth: number) => `{"email":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)},"password":"x"}`;

    it('parses JSON 32 levels deep (then validates it) and refuses 33 levels as 400 malformed_json', async () => {
      const at32 = await ctx.request({ method: 'POST', url: '/api/v1/login/', headers: { 'content-type': 'application/json' }, payload: nested(32) });
      expect(problemOf(at32)).toMatchObject({ status: 400, code: 'validation_failed' });
      const at33 = await ctx.request({ method: 'POST', url: '/api/v1/login/', headers: { 'content-type': 'application/json' }, payload: nested(33) });
      expect(problemOf(at33)).toMatchObject({ status: 400, code: 'malformed_json' });
      const huge = await ctx.request({ method: 'POST', url: '/api/v1/login/', headers: { 'content-type': 'application/json' }, payload: '['.repeat(500_000) });
      expect(problemOf(huge)).toMatchObject({ status: 400, code: 'malformed_json' });
    });

    it('does not count brackets inside strings as nesting', async () => {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email: `${'['.repeat(40)}@example.test`, password: '{'.repeat(40) } });
      expect(problemOf(res)).toMatchObject({ status: 401, code: 'invalid_credentials' });
    });

    it('answers a body of 60,000 unknown keys with at most 20 field problems in a small body', async () => {
      const payload = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i]));
      const res = await ctx.request({ method: 'POST', url: '/api/v1/login/', payload });
      const problem = problemOf(res);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors!.length).toBeGreaterThan(0);
      expect(problem.errors!.length).toBeLessThanOrEqual(20);
      expect(Buffer.byteLength(res.body)).toBeLessThan(10 * 1024);
    });
  });

  describe('ids are UUIDs compared case-insensitively', () => {
    it('finds a product, adds it to the cart and changes the line by upper-case ids, answering lower-case ids', async () => {
      const buyer = await ctx.user('customer');
      const upper = product.id.toUpperCase();
      const got = await ctx.request({ method: 'GET', url: `/api/v1/products/${upper}/` });
      expect(got.statusCode).toBe(200);
      expect(got.json<{ id: string }>().id).toBe(product.id);

      const added = await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: upper, quantity: 1 }, as: buyer });
      expect(added.statusCode).toBe(201);
      const item = added.json<{ id: string; product_id: string }>();
      expect(item.product_id).toBe(product.id);
      // The same product again, in upper case, merges into the line instead of making a second one.
      const merged = await ctx.request({ method: 'POST', url: '/api/v1/cart-items/', payload: { product_id: upper, quantity: 1 }, as: buyer });
      expect(merged.statusCode).toBe(200);

      const changed = await ctx.request({ method: 'PATCH', url: `/api/v1/cart-items/${item.id.toUpperCase()}/`, payload: { quantity: 3 }, as: buyer });
      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toMatchObject({ id: item.id, quantity: 3 });
    });

    it('filters the catalog by an upper-case vendor or category id', async () => {
      for (const query of [`vendor=${catalog.vendorId.toUpperCase()}`, `category=${catalog.categoryId.toUpperCase()}`]) {
        const res = await ctx.request({ method: 'GET', url: `/api/v1/products/?${query}` });
        expect(res.statusCode).toBe(200);
        expect(res.json<{ results: { id: string }[] }>().results.map((p) => p.id)).toContain(product.id);
      }
    });
  });

  describe('integers in queries are decimal digits only', () => {
    it.each(['1e1', '0x10', '%205', '+5', '5.0', '-1', '', '5%20'])('refuses limit=%s with 400 at query.limit', async (limit) => {
      expectFieldRefused(await ctx.request({ method: 'GET', url: `/api/v1/products/?limit=${limit}` }), 'query.limit');
    });

    it('refuses min_price=1e3 and takes limit=5 and min_price=0', async () => {
      expectFieldRefused(await ctx.request({ method: 'GET', url: '/api/v1/products/?min_price=1e3' }), 'query.min_price');
      expect((await ctx.request({ method: 'GET', url: '/api/v1/products/?limit=5&min_price=0' })).statusCode).toBe(200);
    });
  });

  describe('framework errors are problem+json', () => {
    it('answers a wrong method on a known path with 405 and Allow', async () => {
      const put = await ctx.request({ method: 'PUT', url: '/api/v1/products/' });
      expect(put.statusCode).toBe(405);
      expect(problemOf(put).code).toBe('method_not_allowed');
      expect(String(put.headers.allow).split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']));
      expect(String(put.headers.allow)).not.toMatch(/PUT|DELETE/);

      const del = await ctx.request({ method: 'DELETE', url: `/api/v1/orders/${randomUUID()}/`, as: customer });
      expect(del.statusCode).toBe(405);
      expect(problemOf(del).code).toBe('method_not_allowed');
      expect(String(del.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD']);
    });

    it('still answers an unknown path with 404', async () => {
      const res = await ctx.request({ method: 'PUT', url: '/api/v1/no-such-thing/' });
      expect(problemOf(res)).toMatchObject({ status: 404, code: 'not_found' });
    });

    it('answers bad percent-encoding with 400 bad_request', async () => {
      for (const url of ['/api/v1/products/%zz/', '/api/v1/%E0%A4%A/']) {
        const res = await ctx.request({ method: 'GET', url });
        expect(res.statusCode).toBe(400);
        expect(problemOf(res).code).toBe('bad_request');
      }
    });

    it('answers a request-target over 8 KiB, or a path segment over the router limit, with 414', async () => {
      const longQuery = await ctx.request({ method: 'GET', url: `/api/v1/products/?q=${'a'.repeat(9000)}` });
      expect(problemOf(longQuery)).toMatchObject({ status: 414, code: 'uri_too_long' });
      const longSegment = await ctx.request({ method: 'GET', url: `/api/v1/products/${'a'.repeat(200)}/` });
      expect(problemOf(longSegment)).toMatchObject({ status: 414, code: 'uri_too_long' });
    });

    it("answers what Node's HTTP parser refuses (414, 431, broken HTTP) as problem+json on the socket", async () => {
      const port = Number(new URL(await listenOnFreePort(ctx)).port);
      const longUrl = parseRaw(await rawRequest(port, `GET /api/v1/products/?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
      expect(longUrl.status).toBe(414);
      expect(longUrl.headers['content-type']).toBe('application/problem+json');
      expect(longUrl.body).toMatchObject({ status: 414, code: 'uri_too_long' });

      const bigHeader = parseRaw(await rawRequest(port, `GET /api/v1/products/ HTTP/1.1\r\nHost: localhost\r\nX-Junk: ${'a'.repeat(20_000)}\r\n\r\n`));
      expect(bigHeader.status).toBe(431);
      expect(bigHeader.headers['content-type']).toBe('application/problem+json');
      expect(bigHeader.body).toMatchObject({ status: 431, code: 'headers_too_large' });

      const broken = parseRaw(await rawRequest(port, 'GET /api/v1/products/ HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n'));
      expect(broken.status).toBe(400);
      expect(broken.body).toMatchObject({ status: 400, code: 'bad_request' });
    });
  });

  describe('access tokens', () => {
    const me = (authorization: string) => ctx.request({ method: 'GET', url: '/api/v1/users/me/', headers: { authorization } });
    const claims = (extra: Record<string, unknown> = {}) => ({
      sub: customer.id,
      role: 'customer',
      tv: 0,
      typ: 'access',
      jti: randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 600,
      ...extra,
    });

    it('takes the Bearer scheme in any letter case', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) expect((await me(`${scheme} ${customer.token}`)).statusCode).toBe(200);
      expect(problemOf(await me(`Basic ${customer.token}`)).code).toBe('unauthenticated');
    });

    it('accepts a token signed with the secret carrying every claim, and refuses one without exp with 401', async () => {
      expect((await me(`Bearer ${signedToken(ctx.config.JWT_SECRET, claims())}`)).statusCode).toBe(200);
      const noExp = await me(`Bearer ${signedToken(ctx.config.JWT_SECRET, claims({ exp: undefined }))}`);
      expect(problemOf(noExp)).toMatchObject({ status: 401, code: 'unauthenticated' });
    });

    it('refuses a token whose sub is not a UUID with 401, never 500', async () => {
      for (const sub of ['admin', "1' OR '1'='1", '', 42, 'a\u0000b']) {
        const res = await me(`Bearer ${signedToken(ctx.config.JWT_SECRET, claims({ sub }))}`);
        expect(problemOf(res)).toMatchObject({ status: 401, code: 'unauthenticated' });
      }
    });

    it('accepts an upper-case sub as the same user', async () => {
      const res = await me(`Bearer ${signedToken(ctx.config.JWT_SECRET, claims({ sub: customer.id.toUpperCase() }))}`);
      expect(res.statusCode).toBe(200);
      expect(res.json<{ id: string }>().id).toBe(customer.id);
    });
  });

  describe('Cache-Control', () => {
    it('is no-store on every private resource, errors included', async () => {
      const vendorUser = catalog.vendorUser;
      const reads: [string, TestUser | undefined][] = [
        ['/api/v1/users/me/', customer],
        ['/api/v1/users/', customer],
        ['/api/v1/cart/', customer],
        ['/api/v1/checkout/', customer],
        ['/api/v1/orders/', customer],
        ['/api/v1/payments/', customer],
        ['/api/v1/notifications/', customer],
        ['/api/v1/bank-accounts/', vendorUser],
        ['/api/v1/orders/', undefined],
        [`/api/v1/payments/${randomUUID()}/`, customer],
      ];
      for (const [url, as] of reads) {
        const res = await ctx.request({ method: 'GET', url, ...(as ? { as } : {}) });
        expect(res.statusCode, url).toBeLessThan(500);
        expect(res.headers['cache-control'], url).toBe('no-store');
      }
      const login = await ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email: customer.email, password: customer.password } });
      expect(login.statusCode).toBe(200);
      expect(login.headers['cache-control']).toBe('no-store');
    });

    it('is not no-store on the public catalog', async () => {
      for (const url of ['/api/v1/products/', `/api/v1/products/${product.id}/`, '/api/v1/categories/', '/api/v1/vendors/']) {
        const res = await ctx.request({ method: 'GET', url });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['cache-control'], url).not.toBe('no-store');
      }
    });
  });
});

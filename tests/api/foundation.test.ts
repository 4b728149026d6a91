import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../shell/app.js';
import { loadConfig } from '../../shell/config.js';
import { migrateToLatest, migrator, openPostgres, pendingMigrations, type DatabaseHandle } from '../../shell/db.js';
import { emptyBody } from '../../shell/http/schemas.js';
import { createTestDatabase } from '../support/harness.js';

describe('foundation: errors, trailing slashes, health and docs', () => {
  let app: FastifyInstance;
  let handle: DatabaseHandle;
  let dropDb: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDb = database.drop;
    handle = openPostgres(database.url, 4);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url });
    app = await buildApp(config, { db: handle.db, logger: false });
    // Routes that exist only in this test, to drive each error class through the real error handling.
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.post('/api/v1/test-echo/', {
      schema: {
        body: z.strictObject({ name: z.string().min(1), items: z.array(z.strictObject({ quantity: z.number().int().min(1) })) }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
      },
      handler: async (request) => ({ received: request.body, limit: request.query.limit }),
    });
    api.post('/api/v1/test-no-input/', { schema: { body: emptyBody }, handler: async () => ({ ok: true }) });
    api.get('/api/v1/test-boom/', {
      handler: async () => {
        throw new Error('secret database detail: relation "users" password=hunter2');
      },
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await handle.close();
    await dropDb();
  });

  const problemOf = (res: { headers: Record<string, unknown>; json(): unknown }) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return res.json() as { type: string; title: string; status: number; detail: string; code: string; errors?: { path: string; message: string }[] };
  };

  it('answers schema failures with 400 validation_failed and field paths', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/', payload: { name: '', items: [{ quantity: 0 }] } });
    expect(res.statusCode).toBe(400);
    const body = problemOf(res);
    expect(body).toMatchObject({ status: 400, code: 'validation_failed', title: 'Validation failed' });
    expect(body.type).toMatch(/^https:\/\//);
    expect(body.errors?.map((e) => e.path).sort()).toEqual(['items.0.quantity', 'name']);
  });

  it('rejects unknown body fields with 400 naming the field', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/', payload: { name: 'a', items: [], role: 'admin' } });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: 'role', message: 'Unknown field' }]);
  });

  it('rejects __proto__ and constructor keys as unknown fields, not as malformed JSON', async () => {
    for (const [payload, path] of [
      ['{"name":"a","items":[],"__proto__":{"role":"admin"}}', '__proto__'],
      ['{"name":"a","items":[],"constructor":{"prototype":{"role":"admin"}}}', 'constructor'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode).toBe(400);
      expect(problemOf(res)).toMatchObject({ code: 'validation_failed', errors: [{ path, message: 'Unknown field' }] });
    }
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it('rejects a bad query parameter with 400 and a query path', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/?limit=500', payload: { name: 'a', items: [] } });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.path).toBe('query.limit');
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/', headers: { 'content-type': 'application/json' }, payload: '{"name": "a",' });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).code).toBe('malformed_json');
  });

  it('answers a body in a content type the route does not take with 415', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/', headers: { 'content-type': type }, payload: 'name=a' });
      expect(res.statusCode, type).toBe(415);
      expect(problemOf(res).code).toBe('unsupported_media_type');
    }
  });

  it('answers a JSON body over 1 MiB with 413', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), items: [] });
    const res = await app.inject({ method: 'POST', url: '/api/v1/test-echo/', headers: { 'content-type': 'application/json' }, payload: big });
    expect(res.statusCode).toBe(413);
    expect(problemOf(res).code).toBe('payload_too_large');
  });

  it('accepts no body, an empty body or {} on a route that takes no input, and nothing else', async () => {
    expect((await app.inject({ method: 'POST', url: '/api/v1/test-no-input/' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/test-no-input/', headers: { 'content-type': 'application/json' }, payload: '' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/test-no-input/', payload: {} })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/v1/test-no-input/', payload: { amount: 1 } })).statusCode).toBe(400);
  });

  it('authenticates before validating: an anonymous caller with a bad body gets 401, a wrong role 403', async () => {
    const anonymous = await app.inject({ method: 'POST', url: '/api/v1/products/', payload: { role: 'admin' } });
    expect(anonymous.statusCode).toBe(401);
    expect(problemOf(anonymous).code).toBe('unauthenticated');
    const garbage = await app.inject({ method: 'POST', url: '/api/v1/categories/', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, payload: '{"name":' });
    expect(garbage.statusCode).toBe(401);
  });

  it("sets helmet's security headers on every answer, a 404 included", async () => {
    for (const url of ['/healthz', '/api/v1/no-such-thing/']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it('answers an unknown route with 404 not_found', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/no-such-thing/' });
    expect(res.statusCode).toBe(404);
    expect(problemOf(res).code).toBe('not_found');
  });

  it('answers an unexpected error with a generic 500 carrying the request id and no internals', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/test-boom/', headers: { 'x-request-id': 'req-abc-123' } });
    expect(res.statusCode).toBe(500);
    const body = problemOf(res);
    expect(body.code).toBe('internal_error');
    expect(body.detail).toContain('req-abc-123');
    expect(res.body).not.toMatch(/hunter2|relation|secret|stack|at /);
    expect(res.headers['x-request-id']).toBe('req-abc-123');
  });

  it('sets an X-Request-Id on every response', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers every route with and without its trailing slash', async () => {
    for (const [a, b] of [
      ['/api/v1/test-echo/', '/api/v1/test-echo'],
      ['/healthz', '/healthz/'],
    ] as const) {
      const method = a.includes('echo') ? 'POST' : 'GET';
      const payload = method === 'POST' ? { name: 'a', items: [] } : undefined;
      const one = await app.inject({ method, url: a, ...(payload ? { payload } : {}) });
      const two = await app.inject({ method, url: b, ...(payload ? { payload } : {}) });
      expect(one.statusCode).toBe(200);
      expect(two.statusCode).toBe(200);
      expect(two.body).toBe(one.body);
    }
  });

  it('reports liveness and readiness', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', redis: 'not_configured' } });
  });

  it('serves an OpenAPI 3 document where every route has a summary, a tag and responses', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: object }>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/healthz']?.get?.summary).toBeTruthy();
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path.includes('/test-')) continue;
      for (const [method, op] of Object.entries(methods)) {
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
        expect(op.responses, `${method} ${path}`).toBeTruthy();
        expect(Array.isArray((op as { security?: unknown }).security), `${method} ${path} security`).toBe(true);
        if (path.startsWith('/api/')) expect(Object.keys(op.responses ?? {}).some((s) => s.startsWith('4')), `${method} ${path} errors`).toBe(true);
      }
    }
    // Errors are documented as problem+json (but for /readyz's 503, which answers its JSON checks);
    // a POST that takes no input does not require a body.
    type Op = { requestBody?: { required?: boolean }; responses: Record<string, { content?: Record<string, unknown> }> };
    const ops = doc.paths as unknown as Record<string, Record<string, Op>>;
    for (const [path, methods] of Object.entries(ops)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (path === '/readyz') continue;
          if (Number(status) >= 400 && response.content) expect(Object.keys(response.content), `${method} ${path} ${status}`).toEqual(['application/problem+json']);
        }
      }
    }
    expect(Object.keys(ops['/readyz']?.get?.responses['503']?.content ?? {})).toEqual(['application/json']);
    for (const path of ['/api/v1/orders/create/', '/api/v1/checkout/confirm/', '/api/v1/checkout/cancel/', '/api/v1/orders/{id}/cancel/']) {
      expect(ops[path]?.post?.requestBody?.required, path).toBe(false);
    }
    expect(ops['/api/v1/users/']?.post?.requestBody?.required).toBe(true);
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });
});

describe('readiness when the database is unreachable', () => {
  it('answers /readyz 503 naming the database', async () => {
    const dead = openPostgres('postgres://postgres@127.0.0.1:1/nowhere', 1);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    const app = await buildApp(config, { db: dead.db, logger: false });
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'unavailable', checks: { database: 'failed' } });
    } finally {
      await app.close();
      await dead.close();
    }
  });
});

describe('migrations', () => {
  it('go up to latest, all the way down, and up again on an empty database', async () => {
    const database = await createTestDatabase();
    // Start from an empty database rather than the migrated template.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    await admin.end();
    const handle = openPostgres(database.url, 2);
    try {
      const tables = async () =>
        (await sql<{ t: string }>`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'kysely_%' ORDER BY 1`.execute(handle.db)).rows.map((r) => r.t);
      const all = (await migrator(handle.db).getMigrations()).map((m) => m.name);
      expect(await pendingMigrations(handle.db)).toEqual(all);

      expect(await migrateToLatest(handle.db)).toEqual(all);
      expect(await pendingMigrations(handle.db)).toEqual([]);
      expect(await tables()).toEqual(expect.arrayContaining(['users', 'products', 'orders', 'payments']));
      expect(await migrateToLatest(handle.db)).toEqual([]); // safe to run twice

      for (let i = 0; i < all.length; i++) {
        const { error } = await migrator(handle.db).migrateDown();
        expect(error).toBeUndefined();
      }
      expect(await tables()).toEqual([]);
      expect(await pendingMigrations(handle.db)).toEqual(all);

      expect(await migrateToLatest(handle.db)).toEqual(all);
    } finally {
      await handle.close();
      await database.drop();
    }
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, killHard, ROOT, startNode, waitUntil, type ChildRun } from '../support/job-fixtures.js';

/**
 * Inline mode end to end: `node dist/shell/server.js` with neither DATABASE_URL nor REDIS_URL (the
 * embedded database in a temporary DATA_DIR, jobs on timers in the API process), an order walked through
 * the HTTP API and left unpaid until the expiry job expires it and returns its stock. The requests and the
 * key answers are written as curl commands to /tmp/inline-walk.txt.
 */

const TRANSCRIPT = process.env.INLINE_WALK_TRANSCRIPT ?? '/tmp/inline-walk.txt';
const PASSWORD = 'correct-horse-battery';

type Body = { [key: string]: unknown; id?: string; results?: { kind: string; message: string; subject_id: string }[] };

describe('inline mode (no DATABASE_URL, no REDIS_URL)', () => {
  let dataDir: string;
  let server: ChildRun | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'nexus-inline-'));
    await ensureBuilt();
  }, 120_000);
  afterAll(async () => {
    if (server) await killHard(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('an unpaid order expires within seconds of payment_due_by and its stock comes back', async () => {
    const lines: string[] = [];
    const note = (s: string) => lines.push(s);
    const env = { NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'info', PAYMENT_DUE_SECONDS: '3', JOBS_SWEEP_SECONDS: '1' };

    // The embedded database takes one process at a time: the admin is made before the server starts.
    const admin = { email: 'admin@example.test', password: PASSWORD };
    const made = spawnSync(process.execPath, ['dist/scripts/create-admin.js', '--email', admin.email, '--password', admin.password], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    note(`$ DATA_DIR=${dataDir} node dist/scripts/create-admin.js --email ${admin.email} --password '…'`);
    note(made.stdout.trim());

    const port = await freePort();
    const base = `http://127.0.0.1:${port}/api/v1`;
    note(`\n$ DATA_DIR=${dataDir} PORT=${port} PAYMENT_DUE_SECONDS=3 JOBS_SWEEP_SECONDS=1 node dist/shell/server.js   # no DATABASE_URL, no REDIS_URL`);
    const startedAt = Date.now();
    server = startNode('dist/shell/server.js', { ...env, PORT: String(port) });
    await waitUntil('the server to listen', async () => fetch(`${base}/categories/`).then((r) => r.ok, () => false), 60_000, 200);
    note(`# listening after ${Date.now() - startedAt} ms; log: ${server.output().split('\n').filter((l) => /embedded|inline/.test(l)).map((l) => JSON.parse(l.startsWith('{') ? l : '{}').msg ?? l).join(' | ')}`);

    const tokenNames = new Map<string, string>();
    async function call(method: string, path: string, body?: unknown, token?: string, show: (b: Body) => unknown = (b) => b) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      const json = (text ? JSON.parse(text) : null) as Body;
      note(`\n$ curl -s -X ${method} ${base}${path}${token ? ` -H "Authorization: Bearer $${tokenNames.get(token) ?? 'TOKEN'}"` : ''}${body === undefined ? '' : ` -H 'content-type: application/json' -d '${JSON.stringify(body)}'`}`);
      note(`# ${res.status} ${JSON.stringify(show(json))}`);
      return { status: res.status, body: json };
    }
    const login = async (email: string) => {
      const name = email.split('@')[0]!.toUpperCase();
      const res = await call('POST', '/login/', { email, password: PASSWORD }, undefined, (b) => ({ token_type: b.token_type, expires_in: b.expires_in, access: `…  (→ $${name})` }));
      expect(res.status).toBe(200);
      tokenNames.set(res.body.access as string, name);
      return res.body.access as string;
    };

    try {
      expect((await call('POST', '/users/', { email: 'vendor@example.test', password: PASSWORD, role: 'vendor' })).status).toBe(201);
      const vendor = await login('vendor@example.test');
      expect((await call('POST', '/vendors/', { business_name: 'Inline Goods' }, vendor)).status).toBe(201);
      const adminToken = await login(admin.email);
      const category = await call('POST', '/categories/', { name: 'Kitchen' }, adminToken);
      expect(category.status).toBe(201);
      const product = await call('POST', '/products/', { name: 'Kettle', unit_price: 2500, stock: 5, category_id: category.body.id }, vendor, (b) => ({ id: b.id, stock: b.stock }));
      expect(product.status).toBe(201);

      expect((await call('POST', '/users/', { email: 'customer@example.test', password: PASSWORD })).status).toBe(201);
      const customer = await login('customer@example.test');
      expect((await call('POST', '/cart-items/', { product_id: product.body.id, quantity: 2 }, customer, (b) => ({ quantity: b.quantity }))).status).toBe(201);
      const address = { line1: '1 Main Street', city: 'Springfield', postal_code: '12345', country: 'US' };
      expect((await call('PATCH', '/checkout/update/', { shipping_address: address }, customer, (b) => ({ status: b.status }))).status).toBe(200);
      expect((await call('POST', '/checkout/confirm/', undefined, customer, (b) => ({ status: b.status, total: b.total }))).status).toBe(200);
      const order = await call('POST', '/orders/create/', {}, customer, (b) => ({ id: b.id, number: b.number, status: b.status, total: b.total, created_at: b.created_at, payment_due_by: b.payment_due_by }));
      expect(order.status).toBe(201);
      const orderCreated = Date.now();
      expect(new Date(order.body.payment_due_by as string).getTime() - new Date(order.body.created_at as string).getTime()).toBe(3000);
      expect((await call('GET', `/products/${product.body.id}/`, undefined, undefined, (b) => ({ stock: b.stock }))).body.stock).toBe(3);

      note('\n# polling GET /orders/{id}/ every 250 ms …');
      const polls: string[] = [];
      const expired = await waitUntil('the order to expire', async () => {
        const res = await fetch(`${base}/orders/${order.body.id}/`, { headers: { authorization: `Bearer ${customer}` } });
        const body = (await res.json()) as { status: string };
        polls.push(`${((Date.now() - orderCreated) / 1000).toFixed(2)}s ${body.status}`);
        return body.status === 'expired' && body;
      }, 10_000, 250);
      const expiredAfter = Date.now() - orderCreated;
      note(`# ${polls.join(', ')}`);
      expect(expired.status).toBe('expired');
      await call('GET', `/orders/${order.body.id}/`, undefined, customer, (b) => ({ status: b.status, payment_due_by: b.payment_due_by }));
      expect((await call('GET', `/products/${product.body.id}/`, undefined, undefined, (b) => ({ stock: b.stock }))).body.stock).toBe(5);
      const notes = await waitUntil('the notification', async () => {
        const res = await fetch(`${base}/notifications/`, { headers: { authorization: `Bearer ${customer}` } });
        const body = (await res.json()) as { results: { kind: string; subject_id: string }[] };
        return body.results.length > 0 && body.results;
      }, 5000, 200);
      await call('GET', '/notifications/', undefined, customer, (b) => b.results?.map((n) => ({ kind: n.kind, message: n.message })));
      expect(notes).toEqual([expect.objectContaining({ kind: 'order_expired', subject_id: order.body.id })]);
      note(`\n# order created → expired seen after ${expiredAfter} ms (due after 3000 ms, sweep every 1 s)`);
      note(`# server log, job lines: ${server.output().split('\n').filter((l) => /"job"/.test(l)).map((l) => JSON.parse(l).msg).join(' | ')}`);
      expect(expiredAfter).toBeLessThan(10_000);
    } finally {
      writeFileSync(TRANSCRIPT, `${lines.join('\n')}\n`);
    }
  });
});

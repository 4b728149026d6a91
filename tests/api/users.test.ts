import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbedded } from '../../shell/db.js';
import type { Page } from '../../shell/pagination.js';
import type { User } from '../../shell/shapes/users.js';
import { createTestContext, TEST_PASSWORD, type TestContext, type TestUser } from '../support/harness.js';
import { envWithout, runScript } from '../support/run-script.js';

const NEW_PASSWORD = 'a-brand-new-passphrase';

describe('users: sign-up, reading, changing and deactivating accounts', () => {
  let ctx: TestContext;
  let admin: TestUser;

  beforeAll(async () => {
    ctx = await createTestContext();
    admin = await ctx.user('admin');
  });
  afterAll(async () => {
    await ctx.close();
  });

  const uniqueEmail = (prefix = 'user') => `${prefix}-${Math.random().toString(36).slice(2, 10)}@example.test`;
  const signUp = (payload: Record<string, unknown>, as?: TestUser, url = '/api/v1/users/') => ctx.request({ method: 'POST', url, payload, ...(as ? { as } : {}) });
  const patch = (id: string, payload: Record<string, unknown>, as: TestUser) => ctx.request({ method: 'PATCH', url: `/api/v1/users/${id}/`, payload, as });
  const row = (id: string) => ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const rowByEmail = (email: string) => ctx.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
  const login = (email: string, password = TEST_PASSWORD) => ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email, password } });
  const me = (authorization: string) => ctx.request({ method: 'GET', url: '/api/v1/users/me/', headers: { authorization } });
  const liveFamilies = async (userId: string) =>
    (await ctx.db.selectFrom('refresh_families').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute()).length;

  describe('POST /users/ (sign-up)', () => {
    it('creates a customer by default and answers 201 with the user shape, never a hash', async () => {
      const email = uniqueEmail();
      const res = await signUp({ email, password: 'ten-chars!', full_name: 'Ada Lovelace' });
      expect(res.statusCode).toBe(201);
      const body = res.json<User>();
      expect(Object.keys(body).sort()).toEqual(['created_at', 'email', 'full_name', 'id', 'is_active', 'role']);
      expect(body).toMatchObject({ email, full_name: 'Ada Lovelace', role: 'customer', is_active: true });
      expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
      const stored = await row(body.id);
      expect(stored.password_hash.startsWith('$argon2id$')).toBe(true);
      expect(parseOptions(stored.password_hash)).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
      expect((await login(email, 'ten-chars!')).statusCode).toBe(200);
    });

    it('lets anyone sign up as a vendor', async () => {
      const res = await signUp({ email: uniqueEmail(), password: TEST_PASSWORD, role: 'vendor' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ role: 'vendor' });
    });

    it('stores the email trimmed but as given, and refuses the same email in another case with 409 email_taken', async () => {
      const email = `  Grace.Hopper-${Math.random().toString(36).slice(2, 8)}@Example.test `;
      const res = await signUp({ email, password: TEST_PASSWORD });
      expect(res.statusCode).toBe(201);
      expect(res.json<User>().email).toBe(email.trim());
      const again = await signUp({ email: email.trim().toLowerCase(), password: TEST_PASSWORD });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'email_taken' });
    });

    it('turns simultaneous sign-ups with one email into one 201 and 409 email_taken for the rest, never a 500', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => signUp({ email: i % 2 ? email.toUpperCase() : email, password: TEST_PASSWORD })));
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
      for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json()).toMatchObject({ code: 'email_taken' });
      const rows = await ctx.db.selectFrom('users').select('id').where((eb) => eb.fn('lower', ['email']), '=', email.toLowerCase()).execute();
      expect(rows).toHaveLength(1);
    });

    it('refuses role admin from an anonymous caller, a customer and a vendor with 403, creating nothing', async () => {
      const customer = await ctx.user('customer');
      const vendor = await ctx.user('vendor');
      for (const as of [undefined, customer, vendor]) {
        const email = uniqueEmail('wannabe');
        const res = await signUp({ email, password: TEST_PASSWORD, role: 'admin' }, as);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'forbidden' });
        expect(await rowByEmail(email)).toBeUndefined();
      }
    });

    it('refuses is_active from anyone but an admin, even is_active true, creating nothing', async () => {
      for (const is_active of [true, false]) {
        const email = uniqueEmail();
        const res = await signUp({ email, password: TEST_PASSWORD, is_active });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'forbidden' });
        expect(await rowByEmail(email)).toBeUndefined();
      }
    });

    it('lets an admin create an admin, and an inactive user', async () => {
      const email = uniqueEmail('new-admin');
      const res = await signUp({ email, password: TEST_PASSWORD, role: 'admin' }, admin);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ role: 'admin', is_active: true });
      const inactive = await signUp({ email: uniqueEmail(), password: TEST_PASSWORD, is_active: false }, admin);
      expect(inactive.statusCode).toBe(201);
      expect((await row(inactive.json<User>().id)).is_active).toBe(false);
      expect((await login(inactive.json<User>().email)).statusCode).toBe(401);
    });

    it('answers 401 when an Authorization header is sent but is not a valid token', async () => {
      const email = uniqueEmail();
      const res = await ctx.request({ method: 'POST', url: '/api/v1/users/', headers: { authorization: 'Bearer nonsense' }, payload: { email, password: TEST_PASSWORD } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthenticated' });
      expect(await rowByEmail(email)).toBeUndefined();
    });

    it('rejects a short password, a bad email, a bad role and unknown fields with 400 naming the field', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ email: uniqueEmail(), password: 'nine-char' }, 'password'],
        [{ email: 'not-an-email', password: TEST_PASSWORD }, 'email'],
        [{ email: uniqueEmail(), password: TEST_PASSWORD, role: 'superuser' }, 'role'],
        [{ email: uniqueEmail(), password: TEST_PASSWORD, token_version: 5 }, 'token_version'],
        [{ email: uniqueEmail(), password: TEST_PASSWORD, password_hash: 'x' }, 'password_hash'],
      ];
      for (const [payload, path] of cases) {
        const res = await signUp(payload);
        expect(res.statusCode).toBe(400);
        const body = res.json<{ code: string; errors: { path: string }[] }>();
        expect(body.code).toBe('validation_failed');
        expect(body.errors.map((e) => e.path)).toContain(path);
      }
    });

    it('counts password length in characters', async () => {
      const res = await signUp({ email: uniqueEmail(), password: '🔑🔑🔑🔑🔑' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'password' }] });
    });

    it('answers with and without the trailing slash', async () => {
      expect((await signUp({ email: uniqueEmail(), password: TEST_PASSWORD }, undefined, '/api/v1/users')).statusCode).toBe(201);
    });
  });

  describe('GET /users/ and /users/me/', () => {
    it('lists every user for an admin, oldest first, in cursor pages that link both ways', async () => {
      const total = (await ctx.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
      const seen: string[] = [];
      let url: string | null = '/api/v1/users/?limit=2';
      let pages = 0;
      let last: Page<User> | null = null;
      while (url) {
        const res = await ctx.request({ method: 'GET', url, as: admin });
        expect(res.statusCode).toBe(200);
        last = res.json<Page<User>>();
        expect(last.results.length).toBeLessThanOrEqual(2);
        seen.push(...last.results.map((u) => u.id));
        url = last.next ? new URL(last.next).pathname + new URL(last.next).search : null;
        pages++;
      }
      expect(seen).toHaveLength(Number(total));
      expect(new Set(seen).size).toBe(seen.length);
      expect(pages).toBeGreaterThan(1);
      expect(last!.previous).toMatch(/^http:\/\/localhost(:\d+)?\/api\/v1\/users\/\?limit=2&cursor=/);
      const created = await ctx.db.selectFrom('users').select('id').orderBy('created_at').orderBy('id').execute();
      expect(seen).toEqual(created.map((u) => u.id));
    });

    it('lists only the caller for anyone else', async () => {
      const customer = await ctx.user('customer');
      const res = await ctx.request({ method: 'GET', url: '/api/v1/users', as: customer });
      expect(res.statusCode).toBe(200);
      const body = res.json<Page<User>>();
      expect(body.results.map((u) => u.id)).toEqual([customer.id]);
      expect(body.next).toBeNull();
      expect(body.previous).toBeNull();
    });

    it('refuses the list without a token (401), and a bad limit or cursor (400)', async () => {
      expect((await ctx.request({ method: 'GET', url: '/api/v1/users/' })).statusCode).toBe(401);
      for (const q of ['limit=0', 'limit=101', 'cursor=forged']) {
        const res = await ctx.request({ method: 'GET', url: `/api/v1/users/?${q}`, as: admin });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'validation_failed' });
      }
    });

    it('answers /users/me/ with the caller, with and without the trailing slash', async () => {
      const vendor = await ctx.user('vendor');
      for (const url of ['/api/v1/users/me/', '/api/v1/users/me']) {
        const res = await ctx.request({ method: 'GET', url, as: vendor });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ id: vendor.id, email: vendor.email, role: 'vendor', is_active: true });
        expect(res.json()).not.toHaveProperty('password_hash');
      }
      expect((await ctx.request({ method: 'GET', url: '/api/v1/users/me/' })).statusCode).toBe(401);
    });
  });

  describe('GET /users/{id}/', () => {
    it('shows yourself, and anyone to an admin', async () => {
      const customer = await ctx.user('customer');
      expect((await ctx.request({ method: 'GET', url: `/api/v1/users/${customer.id}/`, as: customer })).json()).toMatchObject({ id: customer.id });
      expect((await ctx.request({ method: 'GET', url: `/api/v1/users/${customer.id}`, as: admin })).json()).toMatchObject({ id: customer.id });
    });

    it("answers another user's id with 404, the same as an id nobody has", async () => {
      const customer = await ctx.user('customer');
      const other = await ctx.user('customer');
      const theirs = await ctx.request({ method: 'GET', url: `/api/v1/users/${other.id}/`, as: customer });
      const nobody = await ctx.request({ method: 'GET', url: `/api/v1/users/00000000-0000-4000-8000-000000000000/`, as: customer });
      expect(theirs.statusCode).toBe(404);
      expect(nobody.statusCode).toBe(404);
      expect(theirs.json()).toEqual(nobody.json());
      expect((await ctx.request({ method: 'GET', url: `/api/v1/users/${admin.id}/`, as: customer })).statusCode).toBe(404);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/users/00000000-0000-4000-8000-000000000000/`, as: admin })).statusCode).toBe(404);
    });

    it('answers a malformed id with 400 and no token with 401', async () => {
      const customer = await ctx.user('customer');
      expect((await ctx.request({ method: 'GET', url: '/api/v1/users/not-a-uuid/', as: customer })).statusCode).toBe(400);
      expect((await ctx.request({ method: 'GET', url: `/api/v1/users/${customer.id}/` })).statusCode).toBe(401);
    });
  });

  describe('PATCH /users/{id}/', () => {
    it('lets you change your full name and email, keeping your session', async () => {
      const customer = await ctx.user('customer');
      const email = uniqueEmail('renamed');
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/users/${customer.id}`, payload: { full_name: 'New Name', email }, as: customer });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: customer.id, full_name: 'New Name', email });
      const stored = await row(customer.id);
      expect(stored).toMatchObject({ full_name: 'New Name', email, token_version: 0 });
      expect((await me(customer.headers.authorization)).statusCode).toBe(200);
      expect((await login(email)).statusCode).toBe(200);
    });

    it("refuses an email another user has, in any case, with 409 email_taken; changing your own email's case is fine", async () => {
      const customer = await ctx.user('customer');
      const other = await ctx.user('customer');
      const res = await patch(customer.id, { email: other.email.toUpperCase() }, customer);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'email_taken' });
      expect((await row(customer.id)).email).toBe(customer.email);
      const own = await patch(customer.id, { email: customer.email.toUpperCase() }, customer);
      expect(own.statusCode).toBe(200);
      expect((await row(customer.id)).email).toBe(customer.email.toUpperCase());
    });

    it('refuses role or is_active from a non-admin with 403 forbidden and changes nothing, not even the other fields', async () => {
      const customer = await ctx.user('customer');
      const vendor = await ctx.user('vendor');
      for (const [as, payload] of [
        [customer, { role: 'admin' }],
        [customer, { role: 'vendor', full_name: 'Sneaky' }],
        [customer, { is_active: true }],
        [vendor, { role: 'admin', full_name: 'Sneaky' }],
        [vendor, { is_active: false }],
      ] as const) {
        const before = await row(as.id);
        const res = await patch(as.id, payload, as);
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ code: 'forbidden' });
        expect(await row(as.id)).toEqual(before);
      }
    });

    it('rejects unknown fields with 400 and changes nothing', async () => {
      const customer = await ctx.user('customer');
      const before = await row(customer.id);
      for (const payload of [{ token_version: 9 }, { password_hash: 'x', full_name: 'X' }, { id: admin.id }]) {
        const res = await patch(customer.id, payload, customer);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'validation_failed' });
      }
      expect(await row(customer.id)).toEqual(before);
    });

    it("answers a change to another user's account with 404 and changes nothing", async () => {
      const customer = await ctx.user('customer');
      const other = await ctx.user('customer');
      const before = await row(other.id);
      for (const payload of [{ full_name: 'Hijacked' }, { role: 'admin' }]) {
        const res = await patch(other.id, payload, customer);
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ code: 'not_found' });
      }
      expect(await row(other.id)).toEqual(before);
    });

    it('needs current_password to change your own password: missing is 400, wrong is 401 invalid_credentials', async () => {
      const customer = await ctx.user('customer');
      const before = await row(customer.id);
      const missing = await patch(customer.id, { password: NEW_PASSWORD }, customer);
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'current_password' }] });
      const wrong = await patch(customer.id, { password: NEW_PASSWORD, current_password: 'not-the-password' }, customer);
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ code: 'invalid_credentials' });
      const short = await patch(customer.id, { password: 'short', current_password: TEST_PASSWORD }, customer);
      expect(short.statusCode).toBe(400);
      expect(await row(customer.id)).toEqual(before);
    });

    it('changes your password and ends every session: old access tokens and refresh tokens stop working', async () => {
      const customer = await ctx.user('customer');
      const session = (await login(customer.email)).json<{ access: string; refresh: string }>();
      // Both tokens used once first, so the facts they are checked against are the cached ones.
      expect((await me(customer.headers.authorization)).statusCode).toBe(200);
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(200);
      const res = await patch(customer.id, { password: NEW_PASSWORD, current_password: TEST_PASSWORD }, customer);
      expect(res.statusCode).toBe(200);
      expect((await row(customer.id)).token_version).toBe(1);
      expect(await liveFamilies(customer.id)).toBe(0);
      expect((await me(customer.headers.authorization)).statusCode).toBe(401);
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(401);
      const refreshed = await ctx.request({ method: 'POST', url: '/api/v1/token/refresh/', payload: { refresh: session.refresh } });
      expect(refreshed.statusCode).toBe(401);
      expect((await login(customer.email)).statusCode).toBe(401);
      const fresh = await login(customer.email, NEW_PASSWORD);
      expect(fresh.statusCode).toBe(200);
      expect((await me(`Bearer ${fresh.json<{ access: string }>().access}`)).statusCode).toBe(200);
    });

    it("lets an admin change a user's role, which ends that user's sessions", async () => {
      const customer = await ctx.user('customer');
      const session = (await login(customer.email)).json<{ access: string; refresh: string }>();
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(200);
      const res = await patch(customer.id, { role: 'vendor' }, admin);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ role: 'vendor' });
      expect(await row(customer.id)).toMatchObject({ role: 'vendor', token_version: 1 });
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(401);
      expect(await liveFamilies(customer.id)).toBe(0);
      const relogin = await login(customer.email);
      expect((await me(`Bearer ${relogin.json<{ access: string }>().access}`)).json()).toMatchObject({ role: 'vendor' });
    });

    it("lets an admin reset another user's password without current_password, and deactivate them", async () => {
      const customer = await ctx.user('customer');
      expect((await me(customer.headers.authorization)).statusCode).toBe(200);
      const reset = await patch(customer.id, { password: NEW_PASSWORD }, admin);
      expect(reset.statusCode).toBe(200);
      expect((await me(customer.headers.authorization)).statusCode).toBe(401);
      const session = (await login(customer.email, NEW_PASSWORD)).json<{ access: string }>();
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(200);
      const off = await patch(customer.id, { is_active: false }, admin);
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ is_active: false });
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(401);
      expect((await login(customer.email, NEW_PASSWORD)).statusCode).toBe(401);
      expect(await liveFamilies(customer.id)).toBe(0);
    });

    it("does not bump the token version for changes that are not about access (name, email, same role)", async () => {
      const customer = await ctx.user('customer');
      expect((await patch(customer.id, { role: 'customer', full_name: 'Same Role' }, admin)).statusCode).toBe(200);
      expect((await row(customer.id)).token_version).toBe(0);
      expect((await me(customer.headers.authorization)).statusCode).toBe(200);
    });
  });

  describe('DELETE /users/{id}/', () => {
    it('deactivates yourself: 204, the row is kept inactive, tokens and login stop working', async () => {
      const customer = await ctx.user('customer');
      const session = (await login(customer.email)).json<{ access: string; refresh: string }>();
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(200);
      const res = await ctx.request({ method: 'DELETE', url: `/api/v1/users/${customer.id}/`, as: customer });
      expect(res.statusCode).toBe(204);
      expect(await row(customer.id)).toMatchObject({ is_active: false, token_version: 1 });
      expect(await liveFamilies(customer.id)).toBe(0);
      expect((await me(customer.headers.authorization)).statusCode).toBe(401);
      expect((await me(`Bearer ${session.access}`)).statusCode).toBe(401);
      const refreshed = await ctx.request({ method: 'POST', url: '/api/v1/token/refresh/', payload: { refresh: session.refresh } });
      expect(refreshed.statusCode).toBe(401);
      const relogin = await login(customer.email);
      expect(relogin.statusCode).toBe(401);
      expect(relogin.json()).toMatchObject({ code: 'invalid_credentials' });
    });

    it("answers another user's id with 404 and changes nothing", async () => {
      const customer = await ctx.user('customer');
      const other = await ctx.user('customer');
      const res = await ctx.request({ method: 'DELETE', url: `/api/v1/users/${other.id}`, as: customer });
      expect(res.statusCode).toBe(404);
      expect((await row(other.id)).is_active).toBe(true);
    });

    it('lets an admin deactivate anyone, and answers a repeat with 204', async () => {
      const vendor = await ctx.user('vendor');
      expect((await me(vendor.headers.authorization)).statusCode).toBe(200);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/users/${vendor.id}/`, as: admin })).statusCode).toBe(204);
      expect((await me(vendor.headers.authorization)).statusCode).toBe(401);
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/users/${vendor.id}/`, as: admin })).statusCode).toBe(204);
      expect(await row(vendor.id)).toMatchObject({ is_active: false, token_version: 1 });
      expect((await ctx.request({ method: 'DELETE', url: `/api/v1/users/00000000-0000-4000-8000-000000000000/`, as: admin })).statusCode).toBe(404);
    });
  });

  describe('npm run create-admin', () => {
    const runCreateAdmin = (args: string[], env: Record<string, string>) =>
      runScript('scripts/create-admin.ts', args, { ...envWithout(['DATABASE_URL', 'DATA_DIR']), LOG_LEVEL: 'silent', ...env });

    it('creates an admin who can log in', async () => {
      const email = uniqueEmail('ops');
      const out = await runCreateAdmin(['--email', email, '--password', 'operator-password', '--name', 'Ops Person'], { DATABASE_URL: ctx.databaseUrl });
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/Created admin/);
      expect(await rowByEmail(email)).toMatchObject({ role: 'admin', is_active: true, full_name: 'Ops Person' });
      expect((await login(email, 'operator-password')).statusCode).toBe(200);
    });

    // Without REDIS_URL the command cannot reach the API's cache: this token was never used, so it is not
    // cached (tests/api/auth-cache.test.ts covers a cached token, with Redis).
    it('promotes, reactivates and resets an existing user, ending their sessions', async () => {
      const customer = await ctx.user('customer');
      await login(customer.email);
      await ctx.db.updateTable('users').set({ is_active: false }).where('id', '=', customer.id).execute();
      const out = await runCreateAdmin(['--email', customer.email.toUpperCase(), '--password', 'operator-password'], { DATABASE_URL: ctx.databaseUrl });
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/Promoted/);
      expect(await row(customer.id)).toMatchObject({ role: 'admin', is_active: true, token_version: 1, email: customer.email });
      expect(await liveFamilies(customer.id)).toBe(0);
      expect((await me(customer.headers.authorization)).statusCode).toBe(401);
      expect((await login(customer.email, 'operator-password')).statusCode).toBe(200);
    });

    it('exits non-zero with a clear message on a missing flag, a bad email or a short password, creating nothing', async () => {
      const email = uniqueEmail('bad');
      const cases: [string[], RegExp][] = [
        [['--email', email], /--password/],
        [['--email', 'not-an-email', '--password', 'operator-password'], /email/i],
        [['--email', email, '--password', 'short'], /at least 10/],
      ];
      for (const [args, message] of cases) {
        const out = await runCreateAdmin(args, { DATABASE_URL: ctx.databaseUrl });
        expect(out.code).not.toBe(0);
        expect(out.stderr).toMatch(message);
      }
      expect(await rowByEmail(email)).toBeUndefined();
    });

    it('migrates and creates the admin on the embedded database', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nexus-create-admin-'));
      try {
        const out = await runCreateAdmin(['--email', 'root@example.test', '--password', 'operator-password'], { DATA_DIR: dir });
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        expect(out.stdout).toMatch(/migration/i);
        expect(out.stdout).toMatch(/Created admin root@example.test/);
        const again = await runCreateAdmin(['--email', 'root@example.test', '--password', 'operator-password-2'], { DATA_DIR: dir });
        expect(again.code).toBe(0);
        expect(again.stdout).toMatch(/Promoted/);
        const handle = await openEmbedded(dir);
        try {
          const rows = await handle.db.selectFrom('users').select(['email', 'role', 'is_active', 'token_version']).execute();
          expect(rows).toEqual([{ email: 'root@example.test', role: 'admin', is_active: true, token_version: 1 }]);
        } finally {
          await handle.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  });
});

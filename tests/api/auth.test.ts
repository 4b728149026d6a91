import { createHash, createHmac, randomUUID } from 'node:crypto';
import { hash, parseOptions } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DUMMY_PASSWORD_HASH, PASSWORD_HASH_OPTIONS } from '../../shell/passwords.js';
import { createTestContext, TEST_PASSWORD, type TestContext, type TestUser } from '../support/harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A JWT made by hand, so tests can forge what the app must refuse (past exp, alg none, another key). */
function handmadeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | null): string {
  const data = `${b64url(header)}.${b64url(payload)}`;
  if (secret === null) return `${data}.`;
  return `${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`;
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

interface Pair {
  access: string;
  refresh: string;
  token_type: string;
  expires_in: number;
}

describe('authentication: login, refresh rotation, logout and access tokens', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    await ctx.close();
  });

  const login = (email: string, password = TEST_PASSWORD, url = '/api/v1/login/') =>
    ctx.request({ method: 'POST', url, payload: { email, password } });
  const refresh = (token: string, url = '/api/v1/token/refresh/') => ctx.request({ method: 'POST', url, payload: { refresh: token } });
  const logout = (token: string, url = '/api/v1/logout/') => ctx.request({ method: 'POST', url, payload: { refresh: token } });
  const me = (access: string) => ctx.request({ method: 'GET', url: '/api/v1/users/me/', headers: { authorization: `Bearer ${access}` } });

  async function loggedIn(user: TestUser): Promise<Pair> {
    const res = await login(user.email);
    expect(res.statusCode).toBe(200);
    return res.json<Pair>();
  }

  const familyOf = async (token: string) => {
    const row = await ctx.db
      .selectFrom('refresh_tokens as t')
      .innerJoin('refresh_families as f', 'f.id', 't.family_id')
      .select(['t.family_id', 't.spent_at', 't.expires_at', 'f.revoked_at', 'f.revoked_reason', 'f.user_id'])
      .where('t.token_hash', '=', sha256(token))
      .executeTakeFirstOrThrow();
    return row;
  };

  describe('POST /login/', () => {
    it('returns an access token, a refresh token, the Bearer type and the access lifetime', async () => {
      const user = await ctx.user('customer');
      const res = await login(user.email);
      expect(res.statusCode).toBe(200);
      const body = res.json<Pair>();
      expect(Object.keys(body).sort()).toEqual(['access', 'expires_in', 'refresh', 'token_type']);
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(900);
      expect(body.refresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const claims = claimsOf(body.access);
      expect(claims).toMatchObject({ sub: user.id, role: 'customer', tv: 0, typ: 'access' });
      expect(typeof claims.jti).toBe('string');
      expect((claims.exp as number) - (claims.iat as number)).toBe(900);
      expect((await me(body.access)).json()).toMatchObject({ id: user.id });
    });

    it('stores only the SHA-256 of the refresh token, in a new family for this login', async () => {
      const user = await ctx.user('customer');
      const first = await loggedIn(user);
      const second = await loggedIn(user);
      const a = await familyOf(first.refresh);
      const b = await familyOf(second.refresh);
      expect(a.user_id).toBe(user.id);
      expect(a.family_id).not.toBe(b.family_id);
      expect(a.revoked_at).toBeNull();
      expect(a.expires_at.getTime() - Date.now()).toBeGreaterThan(604800 * 1000 - 60_000);
      const stored = await ctx.db.selectFrom('refresh_tokens').select('token_hash').where('token_hash', '=', first.refresh).execute();
      expect(stored).toEqual([]);
    });

    it('matches the email case-insensitively and ignores surrounding spaces', async () => {
      const user = await ctx.user('customer', { email: `Mixed.Case-${randomUUID().slice(0, 6)}@Example.test` });
      expect((await login(`  ${user.email.toUpperCase()} `)).statusCode).toBe(200);
    });

    it('answers a wrong password and an unknown email with the same 401 invalid_credentials', async () => {
      const user = await ctx.user('customer');
      const wrong = await login(user.email, 'not-the-password');
      const unknown = await login(`nobody-${randomUUID()}@example.test`, 'whatever-password');
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(wrong.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(wrong.json()).toMatchObject({ code: 'invalid_credentials', status: 401 });
      expect(unknown.json()).toEqual(wrong.json());
    });

    it('refuses a deactivated user with the same 401 invalid_credentials as a wrong password', async () => {
      const user = await ctx.user('customer', { is_active: false });
      const res = await login(user.email);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual((await login(user.email, 'not-the-password')).json());
      expect(await ctx.db.selectFrom('refresh_families').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
    });

    it('checks unknown emails against a dummy hash made with the current parameters', () => {
      const o = parseOptions(DUMMY_PASSWORD_HASH);
      expect(DUMMY_PASSWORD_HASH.startsWith('$argon2id$')).toBe(true);
      expect({ memoryCost: o.memoryCost, timeCost: o.timeCost, parallelism: o.parallelism }).toEqual(PASSWORD_HASH_OPTIONS);
    });

    it('rehashes a password stored with weaker parameters on a successful login', async () => {
      const user = await ctx.user('customer');
      const weak = await hash(TEST_PASSWORD, { memoryCost: 4096, timeCost: 1, parallelism: 1 });
      await ctx.db.updateTable('users').set({ password_hash: weak }).where('id', '=', user.id).execute();
      expect((await login(user.email)).statusCode).toBe(200);
      const stored = (await ctx.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow()).password_hash;
      expect(stored).not.toBe(weak);
      expect(parseOptions(stored)).toMatchObject(PASSWORD_HASH_OPTIONS);
      expect((await login(user.email)).statusCode).toBe(200);
    });

    it('rejects unknown fields and missing fields with 400 validation_failed', async () => {
      const user = await ctx.user('customer');
      const extra = await ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email: user.email, password: TEST_PASSWORD, role: 'admin' } });
      expect(extra.statusCode).toBe(400);
      expect(extra.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'role', message: 'Unknown field' }] });
      const missing = await ctx.request({ method: 'POST', url: '/api/v1/login/', payload: { email: user.email } });
      expect(missing.statusCode).toBe(400);
      expect(missing.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['password']);
    });

    it('answers with and without the trailing slash', async () => {
      const user = await ctx.user('customer');
      expect((await login(user.email, TEST_PASSWORD, '/api/v1/login')).statusCode).toBe(200);
      expect((await login(user.email, TEST_PASSWORD, '/api/v1/login/')).statusCode).toBe(200);
    });
  });

  describe('POST /token/refresh/', () => {
    it('returns a new pair and spends the old refresh token; the new one belongs to the same login', async () => {
      const user = await ctx.user('customer');
      const first = await loggedIn(user);
      const res = await refresh(first.refresh);
      expect(res.statusCode).toBe(200);
      const second = res.json<Pair>();
      expect(second.token_type).toBe('Bearer');
      expect(second.refresh).not.toBe(first.refresh);
      expect(second.access).not.toBe(first.access);
      const old = await familyOf(first.refresh);
      const fresh = await familyOf(second.refresh);
      expect(old.spent_at).not.toBeNull();
      expect(fresh.spent_at).toBeNull();
      expect(fresh.family_id).toBe(old.family_id);
      expect((await me(second.access)).statusCode).toBe(200);
      expect((await refresh(second.refresh, '/api/v1/token/refresh')).statusCode).toBe(200);
    });

    it("issues the access token with the user's current role and token version", async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      await ctx.db.updateTable('users').set({ role: 'vendor', token_version: 3 }).where('id', '=', user.id).execute();
      const res = await refresh(pair.refresh);
      expect(res.statusCode).toBe(200);
      expect(claimsOf(res.json<Pair>().access)).toMatchObject({ sub: user.id, role: 'vendor', tv: 3 });
      expect((await me(res.json<Pair>().access)).json()).toMatchObject({ role: 'vendor' });
    });

    it('revokes the whole login when a spent token is presented again, including the token that replaced it', async () => {
      const user = await ctx.user('customer');
      const first = await loggedIn(user);
      const other = await loggedIn(user);
      const second = (await refresh(first.refresh)).json<Pair>();

      const reuse = await refresh(first.refresh);
      expect(reuse.statusCode).toBe(401);
      expect(reuse.json()).toMatchObject({ code: 'invalid_refresh_token' });
      const family = await familyOf(second.refresh);
      expect(family.revoked_at).not.toBeNull();
      expect(family.revoked_reason).toBe('reuse');

      const next = await refresh(second.refresh);
      expect(next.statusCode).toBe(401);
      expect(next.json()).toMatchObject({ code: 'invalid_refresh_token' });
      // Another login of the same user is not touched.
      expect((await refresh(other.refresh)).statusCode).toBe(200);
    });

    it('refuses an expired refresh token', async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      ctx.clock.set(new Date(Date.now() + 604800 * 1000 + 1000));
      try {
        const res = await refresh(pair.refresh);
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'invalid_refresh_token' });
      } finally {
        ctx.clock.real();
      }
      expect((await familyOf(pair.refresh)).spent_at).toBeNull();
    });

    it('refuses a refresh token never issued, and an access token presented as one', async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      for (const token of ['x'.repeat(43), pair.access]) {
        const res = await refresh(token);
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'invalid_refresh_token' });
      }
    });

    it('refuses a refresh token of a deactivated user', async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      await ctx.db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
      const res = await refresh(pair.refresh);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_refresh_token' });
      expect((await familyOf(pair.refresh)).revoked_at).not.toBeNull();
    });

    it('rejects a body without refresh, or with unknown fields, with 400', async () => {
      expect((await ctx.request({ method: 'POST', url: '/api/v1/token/refresh/', payload: {} })).statusCode).toBe(400);
      const res = await ctx.request({ method: 'POST', url: '/api/v1/token/refresh/', payload: { refresh: 'abc', user_id: randomUUID() } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    });

    it('lets exactly one of two simultaneous refreshes with the same token succeed, and revokes the login', async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      const results = await Promise.all([refresh(pair.refresh), refresh(pair.refresh)]);
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 401]);
      const winner = results.find((r) => r.statusCode === 200)!.json<Pair>();
      // The loser presented a spent token: reuse detection ended the login.
      expect((await familyOf(pair.refresh)).revoked_reason).toBe('reuse');
      expect((await refresh(winner.refresh)).statusCode).toBe(401);
    });
  });

  describe('POST /logout/', () => {
    it("answers 204 and revokes that login's refresh tokens, and only that login's", async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      const other = await loggedIn(user);
      const res = await logout(pair.refresh);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      const family = await familyOf(pair.refresh);
      expect(family.revoked_at).not.toBeNull();
      expect(family.revoked_reason).toBe('logout');
      const after = await refresh(pair.refresh);
      expect(after.statusCode).toBe(401);
      expect(after.json()).toMatchObject({ code: 'invalid_refresh_token' });
      expect((await refresh(other.refresh)).statusCode).toBe(200);
    });

    it('revokes the newest token of the login when given an older, spent one, and answers a repeat with 204', async () => {
      const user = await ctx.user('customer');
      const first = await loggedIn(user);
      const second = (await refresh(first.refresh)).json<Pair>();
      expect((await logout(first.refresh, '/api/v1/logout')).statusCode).toBe(204);
      expect((await refresh(second.refresh)).statusCode).toBe(401);
      expect((await logout(second.refresh)).statusCode).toBe(204);
    });

    it('answers a refresh token never issued with 401 invalid_refresh_token', async () => {
      const res = await logout('never-issued-token');
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'invalid_refresh_token' });
    });
  });

  describe('access tokens', () => {
    const secret = () => ctx.config.JWT_SECRET;
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const claimsFor = (user: TestUser, extra: Record<string, unknown> = {}) => ({
      sub: user.id,
      role: user.role,
      tv: 0,
      typ: 'access',
      jti: randomUUID(),
      iat: nowSeconds(),
      exp: nowSeconds() + 600,
      ...extra,
    });
    const expectUnauthenticated = async (authorization: string | undefined) => {
      const res = await ctx.request({ method: 'GET', url: '/api/v1/users/me/', headers: authorization === undefined ? {} : { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthenticated' });
    };

    it('accepts a token signed by hand with the right key and claims (so the refusals below are about one thing)', async () => {
      const user = await ctx.user('customer');
      const token = handmadeJwt({ alg: 'HS256', typ: 'JWT' }, claimsFor(user), secret());
      expect((await me(token)).statusCode).toBe(200);
    });

    it('refuses a missing header, another scheme and a malformed token', async () => {
      await expectUnauthenticated(undefined);
      const user = await ctx.user('customer');
      await expectUnauthenticated(`Basic ${Buffer.from('a:b').toString('base64')}`);
      await expectUnauthenticated(`Bearer`);
      await expectUnauthenticated(`Bearer not a token`);
      await expectUnauthenticated(user.token);
    });

    it('refuses a tampered token', async () => {
      const user = await ctx.user('customer');
      const [h, , s] = user.token.split('.');
      await expectUnauthenticated(`Bearer ${h}.${b64url({ ...claimsOf(user.token), role: 'admin' })}.${s}`);
    });

    it('refuses a token signed with another secret', async () => {
      const user = await ctx.user('customer');
      await expectUnauthenticated(`Bearer ${handmadeJwt({ alg: 'HS256', typ: 'JWT' }, claimsFor(user), 'another-secret-that-is-long-enough-000000')}`);
    });

    it('refuses a token with alg "none"', async () => {
      const user = await ctx.user('customer');
      await expectUnauthenticated(`Bearer ${handmadeJwt({ alg: 'none', typ: 'JWT' }, claimsFor(user), null)}`);
    });

    it('refuses an expired token', async () => {
      const user = await ctx.user('customer');
      await expectUnauthenticated(`Bearer ${handmadeJwt({ alg: 'HS256', typ: 'JWT' }, claimsFor(user, { iat: nowSeconds() - 1000, exp: nowSeconds() - 100 }), secret())}`);
    });

    it('refuses a refresh token used as an access token', async () => {
      const user = await ctx.user('customer');
      const pair = await loggedIn(user);
      await expectUnauthenticated(`Bearer ${pair.refresh}`);
    });

    it('refuses a token whose typ is not access, or whose token version is stale', async () => {
      const user = await ctx.user('customer');
      await expectUnauthenticated(`Bearer ${handmadeJwt({ alg: 'HS256', typ: 'JWT' }, claimsFor(user, { typ: 'refresh' }), secret())}`);
      await expectUnauthenticated(`Bearer ${handmadeJwt({ alg: 'HS256', typ: 'JWT' }, claimsFor(user, { tv: 1 }), secret())}`);
    });
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shell/config.js';
import { seal, unseal } from '../../shell/encryption.js';
import type { BankAccount } from '../../shell/shapes/bank-accounts.js';
import { createTestContext, type TestContext, type TestUser } from '../support/harness.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx.close();
});

async function vendorWithProfile(): Promise<{ user: TestUser; vendorId: string }> {
  const user = await ctx.user('vendor');
  const vendorId = randomUUID();
  const now = new Date();
  await ctx.db.insertInto('vendors').values({ id: vendorId, user_id: user.id, business_name: 'Shop', created_at: now, updated_at: now }).execute();
  return { user, vendorId };
}

const details = (account_number = '0123456789') => ({ account_name: 'Acme Ltd', account_number, bank_name: 'First Bank', bank_code: '011' });

async function accountOf(owner: { user: TestUser }, number = '0123456789'): Promise<BankAccount> {
  const res = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: owner.user, payload: details(number) });
  expect(res.statusCode).toBe(201);
  return res.json() as BankAccount;
}

const rawRow = (id: string) => ctx.db.selectFrom('bank_accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('POST /bank-accounts/', () => {
  it('stores the owner vendor’s account and answers with only the last four digits', async () => {
    const owner = await vendorWithProfile();
    const res = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: owner.user, payload: details('9876543210123') });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(String),
      vendor_id: owner.vendorId,
      account_name: 'Acme Ltd',
      bank_name: 'First Bank',
      bank_code: '011',
      account_number_last4: '0123',
      created_at: expect.any(String),
    });
    expect(res.body).not.toContain('9876543210123');
  });

  it('keeps the account number encrypted at rest: nowhere in the raw row, and it decrypts with the stored key id', async () => {
    const owner = await vendorWithProfile();
    const number = 'GB82WEST12345698765432';
    const account = await accountOf(owner, number);
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM bank_accounts WHERE id = ${account.id}`.execute(ctx.db);
    const raw = JSON.stringify(rows[0]);
    expect(raw).not.toContain(number);
    expect(raw).not.toContain(number.slice(0, 10));
    expect(raw).not.toContain(Buffer.from(number).toString('base64').slice(0, 16));

    const row = await rawRow(account.id);
    expect(row.account_number_key_id).toBe(ctx.config.ENCRYPTION_KEY_ID);
    expect(row.account_number_ciphertext).toMatch(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(Buffer.from(row.account_number_ciphertext.split('.')[0]!, 'base64')).toHaveLength(12);
    expect(row.account_number_last4).toBe('5432');
    expect(unseal(ctx.config, { ciphertext: row.account_number_ciphertext, keyId: row.account_number_key_id })).toBe(number);
  });

  it('refuses a second account for the same vendor with 409 bank_account_exists, also when posted at once', async () => {
    const owner = await vendorWithProfile();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: owner.user, payload: details() })),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const r of results.filter((r) => r.statusCode === 409)) expect(r.json()).toMatchObject({ code: 'bank_account_exists' });
    expect(await ctx.db.selectFrom('bank_accounts').select('id').where('vendor_id', '=', owner.vendorId).execute()).toHaveLength(1);
  });

  it('follows the role matrix: anonymous 401, customer 403, vendor without a profile 403, vendor_id from a vendor 403', async () => {
    const other = await vendorWithProfile();
    expect((await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', payload: details() })).statusCode).toBe(401);
    const customer = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: await ctx.user('customer'), payload: details() });
    expect(customer.statusCode).toBe(403);
    expect(customer.json()).toMatchObject({ code: 'forbidden' });
    expect((await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: await ctx.user('vendor'), payload: details() })).statusCode).toBe(403);
    const owner = await vendorWithProfile();
    const smuggled = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: owner.user, payload: { ...details(), vendor_id: other.vendorId } });
    expect(smuggled.statusCode).toBe(403);
    expect(await ctx.db.selectFrom('bank_accounts').select('id').where('vendor_id', 'in', [owner.vendorId, other.vendorId]).execute()).toHaveLength(0);
  });

  it('lets an admin add the account of a vendor named by vendor_id, and requires it', async () => {
    const admin = await ctx.user('admin');
    const owner = await vendorWithProfile();
    const res = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts', as: admin, payload: { ...details(), vendor_id: owner.vendorId } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ vendor_id: owner.vendorId });
    for (const payload of [details(), { ...details(), vendor_id: randomUUID() }]) {
      const refused = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: admin, payload });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed', errors: [{ path: 'vendor_id' }] });
    }
  });

  it('rejects account numbers that are not 6–34 letters and digits, and unknown fields, with 400', async () => {
    const owner = await vendorWithProfile();
    for (const payload of [details('12345'), details('1'.repeat(35)), details('1234 5678'), details('12-34-56'), { ...details(), account_number_last4: '1234' }]) {
      const res = await ctx.request({ method: 'POST', url: '/api/v1/bank-accounts/', as: owner.user, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect(await ctx.db.selectFrom('bank_accounts').select('id').where('vendor_id', '=', owner.vendorId).execute()).toHaveLength(0);
  });
});

describe('reading bank accounts', () => {
  it('shows the owner and admins the account; customers get 403, other vendors 404, anonymous 401', async () => {
    const owner = await vendorWithProfile();
    const account = await accountOf(owner);
    const url = `/api/v1/bank-accounts/${account.id}/`;
    const own = await ctx.request({ method: 'GET', url, as: owner.user });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual(account);
    expect((await ctx.request({ method: 'GET', url: url.slice(0, -1), as: owner.user })).body).toBe(own.body);
    expect((await ctx.request({ method: 'GET', url, as: await ctx.user('admin') })).statusCode).toBe(200);
    expect((await ctx.request({ method: 'GET', url, as: await ctx.user('customer') })).statusCode).toBe(403);
    const other = await ctx.request({ method: 'GET', url, as: (await vendorWithProfile()).user });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ code: 'not_found' });
    expect((await ctx.request({ method: 'GET', url })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'GET', url: `/api/v1/bank-accounts/${randomUUID()}/`, as: owner.user })).statusCode).toBe(404);
  });

  it('lists a vendor only their own, an admin all of them, page by page', async () => {
    const owners = [await vendorWithProfile(), await vendorWithProfile(), await vendorWithProfile()];
    const accounts = [];
    for (const o of owners) accounts.push(await accountOf(o));

    const own = await ctx.request({ method: 'GET', url: '/api/v1/bank-accounts/', as: owners[0]!.user });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ results: [accounts[0]], next: null, previous: null });
    const none = await ctx.request({ method: 'GET', url: '/api/v1/bank-accounts', as: await ctx.user('vendor') });
    expect(none.json()).toEqual({ results: [], next: null, previous: null });
    expect((await ctx.request({ method: 'GET', url: '/api/v1/bank-accounts/', as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'GET', url: '/api/v1/bank-accounts/' })).statusCode).toBe(401);

    const admin = await ctx.user('admin');
    const seen: string[] = [];
    let url: string | null = '/api/v1/bank-accounts/?limit=2';
    while (url) {
      const res = await ctx.request({ method: 'GET', url, as: admin });
      expect(res.statusCode).toBe(200);
      const page = res.json() as { results: BankAccount[]; next: string | null };
      expect(page.results.length).toBeLessThanOrEqual(2);
      for (const a of page.results) expect(Object.keys(a).sort()).toEqual(['account_name', 'account_number_last4', 'bank_code', 'bank_name', 'created_at', 'id', 'vendor_id']);
      seen.push(...page.results.map((a) => a.id));
      url = page.next ? page.next.replace(/^http:\/\/[^/]+/, '') : null;
    }
    const all = await ctx.db.selectFrom('bank_accounts').select('id').execute();
    expect(seen.sort()).toEqual(all.map((r) => r.id).sort());
    expect((await ctx.request({ method: 'GET', url: '/api/v1/bank-accounts/?limit=500', as: admin })).statusCode).toBe(400);
  });
});

describe('PATCH /bank-accounts/{id}/', () => {
  it('changes any field and re-encrypts a new account number', async () => {
    const owner = await vendorWithProfile();
    const account = await accountOf(owner, '1111111111');
    const before = await rawRow(account.id);
    const res = await ctx.request({
      method: 'PATCH',
      url: `/api/v1/bank-accounts/${account.id}/`,
      as: owner.user,
      payload: { account_number: 'NEWACCT9999', account_name: 'Renamed', bank_name: 'Second Bank', bank_code: '022' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ account_name: 'Renamed', bank_name: 'Second Bank', bank_code: '022', account_number_last4: '9999' });
    const after = await rawRow(account.id);
    expect(after.account_number_ciphertext).not.toBe(before.account_number_ciphertext);
    expect(JSON.stringify(after)).not.toContain('NEWACCT9999');
    expect(unseal(ctx.config, { ciphertext: after.account_number_ciphertext, keyId: after.account_number_key_id })).toBe('NEWACCT9999');
  });

  it('follows the role matrix: anonymous 401, customer 403, other vendor 404, admin 200; nothing changes on refusal', async () => {
    const owner = await vendorWithProfile();
    const account = await accountOf(owner);
    const url = `/api/v1/bank-accounts/${account.id}/`;
    const payload = { account_name: 'Hijack' };
    expect((await ctx.request({ method: 'PATCH', url, payload })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'PATCH', url, payload, as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'PATCH', url, payload, as: (await vendorWithProfile()).user })).statusCode).toBe(404);
    expect((await rawRow(account.id)).account_name).toBe('Acme Ltd');
    const admin = await ctx.request({ method: 'PATCH', url, payload: { account_name: 'By admin' }, as: await ctx.user('admin') });
    expect(admin.statusCode).toBe(200);
    expect((await rawRow(account.id)).account_name).toBe('By admin');
  });

  it('rejects vendor_id and a bad account number with 400', async () => {
    const owner = await vendorWithProfile();
    const account = await accountOf(owner);
    for (const payload of [{ vendor_id: randomUUID() }, { account_number: 'abc' }]) {
      const res = await ctx.request({ method: 'PATCH', url: `/api/v1/bank-accounts/${account.id}/`, as: owner.user, payload });
      expect(res.statusCode).toBe(400);
    }
  });
});

describe('DELETE /bank-accounts/{id}/', () => {
  it('follows the role matrix and deletes the row for the owner (204)', async () => {
    const owner = await vendorWithProfile();
    const account = await accountOf(owner);
    const url = `/api/v1/bank-accounts/${account.id}/`;
    expect((await ctx.request({ method: 'DELETE', url })).statusCode).toBe(401);
    expect((await ctx.request({ method: 'DELETE', url, as: await ctx.user('customer') })).statusCode).toBe(403);
    expect((await ctx.request({ method: 'DELETE', url, as: (await vendorWithProfile()).user })).statusCode).toBe(404);
    expect(await ctx.db.selectFrom('bank_accounts').select('id').where('id', '=', account.id).executeTakeFirst()).toBeDefined();

    const res = await ctx.request({ method: 'DELETE', url: url.slice(0, -1), as: owner.user });
    expect(res.statusCode).toBe(204);
    expect(await ctx.db.selectFrom('bank_accounts').select('id').where('id', '=', account.id).executeTakeFirst()).toBeUndefined();
    expect((await ctx.request({ method: 'DELETE', url, as: owner.user })).statusCode).toBe(404);
    // The vendor may add a new one afterwards.
    await accountOf(owner, '2222222222');
  });

  it('lets an admin delete any account', async () => {
    const account = await accountOf(await vendorWithProfile());
    expect((await ctx.request({ method: 'DELETE', url: `/api/v1/bank-accounts/${account.id}/`, as: await ctx.user('admin') })).statusCode).toBe(204);
    expect(await ctx.db.selectFrom('bank_accounts').select('id').where('id', '=', account.id).executeTakeFirst()).toBeUndefined();
  });
});

describe('encryption keys', () => {
  const key = () => randomBytes(32).toString('base64');

  it('still decrypts values sealed under a retired key once the current key has rotated', () => {
    const k1 = key();
    const k2 = key();
    const before = loadConfig({ NODE_ENV: 'test', ENCRYPTION_KEY_ID: 'k1', ENCRYPTION_KEY: k1 });
    const sealed = seal(before, '0123456789');
    expect(sealed.keyId).toBe('k1');

    const after = loadConfig({ NODE_ENV: 'test', ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_KEY: k2, ENCRYPTION_PREVIOUS_KEYS: `k1:${k1}` });
    expect(unseal(after, sealed)).toBe('0123456789');
    const resealed = seal(after, '0123456789');
    expect(resealed.keyId).toBe('k2');
    expect(unseal(after, resealed)).toBe('0123456789');

    // Without the retired key listed, old values cannot be read; a wrong key fails authentication.
    const forgotten = loadConfig({ NODE_ENV: 'test', ENCRYPTION_KEY_ID: 'k2', ENCRYPTION_KEY: k2 });
    expect(() => unseal(forgotten, sealed)).toThrow(/k1/);
    const impostor = loadConfig({ NODE_ENV: 'test', ENCRYPTION_KEY_ID: 'k1', ENCRYPTION_KEY: k2 });
    expect(() => unseal(impostor, sealed)).toThrow();
  });

  it('uses a fresh nonce for every value, so equal numbers do not give equal ciphertexts', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const a = seal(config, '0123456789');
    const b = seal(config, '0123456789');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.ciphertext.split('.')[0]).not.toBe(b.ciphertext.split('.')[0]);
  });

  it('refuses a tampered ciphertext', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const sealed = seal(config, '0123456789');
    const [nonce, body, tag] = sealed.ciphertext.split('.') as [string, string, string];
    const flipped = Buffer.from(body, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => unseal(config, { ...sealed, ciphertext: [nonce, flipped.toString('base64'), tag].join('.') })).toThrow();
  });
});

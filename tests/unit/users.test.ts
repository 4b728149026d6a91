import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROLES, type Actor, type Role } from '../../core/policy.js';
import {
  authorizeUserAccess,
  checkEmail,
  checkPassword,
  decideAdminAccount,
  decideDeactivation,
  decideRefresh,
  decideSignUp,
  decideUserPatch,
  emailKey,
  normalizeEmail,
  userListScope,
  writableUserFields,
  type RefreshTokenState,
  type UserState,
} from '../../core/users.js';

const PASSWORD = 'long-enough-password';
const alice: Actor = { id: 'alice', role: 'customer' };
const bob: Actor = { id: 'bob', role: 'vendor' };
const root: Actor = { id: 'root', role: 'admin' };
const stateOf = (actor: Actor, is_active = true): UserState => ({ id: actor.id, email: `${actor.id}@example.test`, role: actor.role, is_active });

const errorType = (r: { ok: boolean; error?: { type: string } }) => (r.ok ? 'ok' : r.error!.type);

describe('core/users: accounts', () => {
  describe('password policy', () => {
    it('requires at least 10 characters', () => {
      expect(errorType(checkPassword('123456789'))).toBe('validation_failed');
      expect(errorType(checkPassword('1234567890'))).toBe('ok');
    });
    it('counts characters, not UTF-16 units', () => {
      expect(errorType(checkPassword('🔑'.repeat(9)))).toBe('validation_failed');
      expect(errorType(checkPassword('🔑'.repeat(10)))).toBe('ok');
    });
    it('caps the length so a client cannot make the server hash megabytes', () => {
      expect(errorType(checkPassword('x'.repeat(1025)))).toBe('validation_failed');
    });
    it('names the field in the error', () => {
      const r = checkPassword('short', 'password');
      expect(r.ok ? null : r.error).toMatchObject({ type: 'validation_failed', errors: [{ path: 'password' }] });
    });
  });

  describe('emails', () => {
    it('are stored trimmed as given and compared lower-cased', () => {
      expect(normalizeEmail('  Ada@Example.COM ')).toBe('Ada@Example.COM');
      expect(emailKey('  Ada@Example.COM ')).toBe('ada@example.com');
    });
    it('are checked for a plausible shape', () => {
      expect(checkEmail(' a@b.co ')).toEqual({ ok: true, value: 'a@b.co' });
      for (const bad of ['', 'a', 'a@b', '@b.co', 'a b@c.de', `${'x'.repeat(250)}@b.co`]) expect(errorType(checkEmail(bad))).toBe('validation_failed');
    });
  });

  describe('decideSignUp', () => {
    const matrix: [string, Actor | null, Partial<{ role: Role; is_active: boolean }>, string][] = [
      ['anyone may sign up as a customer', null, {}, 'ok'],
      ['anyone may sign up as a vendor', null, { role: 'vendor' }, 'ok'],
      ['an anonymous caller may not ask for admin', null, { role: 'admin' }, 'forbidden'],
      ['a customer may not create an admin', alice, { role: 'admin' }, 'forbidden'],
      ['a vendor may not create an admin', bob, { role: 'admin' }, 'forbidden'],
      ['an anonymous caller may not send is_active, even true', null, { is_active: true }, 'forbidden'],
      ['a customer may not send is_active', alice, { is_active: false }, 'forbidden'],
      ['an admin may create an admin', root, { role: 'admin' }, 'ok'],
      ['an admin may create an inactive user', root, { is_active: false }, 'ok'],
    ];
    it.each(matrix)('%s', (_name, actor, extra, expected) => {
      expect(errorType(decideSignUp(actor, { email: 'new@example.test', password: PASSWORD, ...extra }))).toBe(expected);
    });

    it('defaults to an active customer with an empty name, trimming email and name', () => {
      expect(decideSignUp(null, { email: ' New@Example.test ', password: PASSWORD, full_name: '  Ada ' })).toEqual({
        ok: true,
        value: { email: 'New@Example.test', full_name: 'Ada', role: 'customer', is_active: true },
      });
      expect(decideSignUp(null, { email: 'n@example.test', password: PASSWORD })).toMatchObject({ value: { full_name: '' } });
    });

    it('refuses a short password and a bad email', () => {
      expect(errorType(decideSignUp(null, { email: 'n@example.test', password: 'short' }))).toBe('validation_failed');
      expect(errorType(decideSignUp(null, { email: 'nope', password: PASSWORD }))).toBe('validation_failed');
    });

    it('answers forbidden before validation, so a role probe is not masked by a bad password', () => {
      expect(errorType(decideSignUp(null, { email: 'nope', password: 'x', role: 'admin' }))).toBe('forbidden');
    });
  });

  describe('who may see and change which user', () => {
    it('shows a user to themselves and to admins; to anyone else it does not exist', () => {
      expect(errorType(authorizeUserAccess(alice, { id: 'alice' }))).toBe('ok');
      expect(errorType(authorizeUserAccess(root, { id: 'alice' }))).toBe('ok');
      expect(errorType(authorizeUserAccess(bob, { id: 'alice' }))).toBe('not_found');
      expect(errorType(authorizeUserAccess(null, { id: 'alice' }))).toBe('not_found');
    });
    it('lists every user for admins and only themselves for anyone else', () => {
      expect(ROLES.map((role) => userListScope({ id: 'x', role }))).toEqual(['self', 'self', 'all']);
    });
    it('names the fields each role may write', () => {
      expect(writableUserFields(alice, { id: 'alice' })).toEqual(['full_name', 'email', 'password']);
      expect(writableUserFields(bob, { id: 'bob' })).toEqual(['full_name', 'email', 'password']);
      expect(writableUserFields(bob, { id: 'alice' })).toEqual([]);
      expect(writableUserFields(root, { id: 'alice' })).toEqual(['full_name', 'email', 'password', 'role', 'is_active']);
    });
  });

  describe('decideUserPatch', () => {
    it('lets you change your name and email without ending your sessions', () => {
      const r = decideUserPatch(alice, stateOf(alice), { full_name: ' New ', email: ' new@example.test ' });
      expect(r).toEqual({
        ok: true,
        value: { changes: { full_name: 'New', email: 'new@example.test' }, setPassword: false, verifyCurrentPassword: false, revokeSessions: false },
      });
    });

    it("answers not_found for someone else's account before looking at the fields", () => {
      expect(errorType(decideUserPatch(bob, stateOf(alice), { full_name: 'x' }))).toBe('not_found');
      expect(errorType(decideUserPatch(bob, stateOf(alice), { role: 'admin' }))).toBe('not_found');
      expect(errorType(decideUserPatch(bob, stateOf(alice), { password: 'x' }))).toBe('not_found');
    });

    it('refuses role or is_active from a non-admin as a whole, even with allowed fields beside them', () => {
      for (const actor of [alice, bob]) {
        expect(errorType(decideUserPatch(actor, stateOf(actor), { role: 'admin' }))).toBe('forbidden');
        expect(errorType(decideUserPatch(actor, stateOf(actor), { role: actor.role }))).toBe('forbidden');
        expect(errorType(decideUserPatch(actor, stateOf(actor), { is_active: true, full_name: 'x' }))).toBe('forbidden');
      }
    });

    it('needs current_password to change your own password, admins included, and asks the shell to verify it', () => {
      expect(decideUserPatch(alice, stateOf(alice), { password: PASSWORD })).toMatchObject({ ok: false, error: { errors: [{ path: 'current_password' }] } });
      expect(errorType(decideUserPatch(root, stateOf(root), { password: PASSWORD }))).toBe('validation_failed');
      expect(decideUserPatch(alice, stateOf(alice), { password: PASSWORD, current_password: 'old' })).toMatchObject({
        ok: true,
        value: { setPassword: true, verifyCurrentPassword: true, revokeSessions: true },
      });
    });

    it("lets an admin reset another user's password without current_password, and refuses one sent there", () => {
      expect(decideUserPatch(root, stateOf(alice), { password: PASSWORD })).toMatchObject({
        ok: true,
        value: { setPassword: true, verifyCurrentPassword: false, revokeSessions: true },
      });
      expect(errorType(decideUserPatch(root, stateOf(alice), { password: PASSWORD, current_password: 'x' }))).toBe('validation_failed');
    });

    it('refuses current_password without a new password, a short new password and a bad email', () => {
      expect(errorType(decideUserPatch(alice, stateOf(alice), { current_password: 'x' }))).toBe('validation_failed');
      expect(errorType(decideUserPatch(alice, stateOf(alice), { password: 'short', current_password: 'x' }))).toBe('validation_failed');
      expect(errorType(decideUserPatch(alice, stateOf(alice), { email: 'nope' }))).toBe('validation_failed');
    });

    it('ends sessions on a role change or a deactivation, not on a same-role write or a reactivation', () => {
      const revoke = (patch: { role?: Role; is_active?: boolean }, target = stateOf(alice)) => {
        const r = decideUserPatch(root, target, patch);
        return r.ok ? r.value.revokeSessions : null;
      };
      expect(revoke({ role: 'vendor' })).toBe(true);
      expect(revoke({ role: 'admin' })).toBe(true);
      expect(revoke({ is_active: false })).toBe(true);
      expect(revoke({ role: 'customer' })).toBe(false);
      expect(revoke({ is_active: true })).toBe(false);
      expect(revoke({ is_active: false }, stateOf(alice, false))).toBe(false);
    });
  });

  describe('decideDeactivation', () => {
    it('lets you or an admin deactivate your account; anyone else gets not_found', () => {
      expect(decideDeactivation(alice, stateOf(alice))).toEqual({ ok: true, value: { alreadyInactive: false } });
      expect(decideDeactivation(root, stateOf(alice, false))).toEqual({ ok: true, value: { alreadyInactive: true } });
      expect(errorType(decideDeactivation(bob, stateOf(alice)))).toBe('not_found');
    });
  });

  describe('decideAdminAccount', () => {
    it('creates a new admin, or promotes an existing user and ends their sessions', () => {
      expect(decideAdminAccount(null, { email: 'ops@example.test', password: PASSWORD, full_name: ' Ops ' })).toEqual({
        ok: true,
        value: { action: 'create', email: 'ops@example.test', full_name: 'Ops', revokeSessions: false },
      });
      expect(decideAdminAccount(stateOf(alice), { email: 'alice@example.test', password: PASSWORD })).toMatchObject({
        ok: true,
        value: { action: 'promote', revokeSessions: true, full_name: undefined },
      });
    });
    it('refuses a bad email or a short password', () => {
      expect(errorType(decideAdminAccount(null, { email: 'nope', password: PASSWORD }))).toBe('validation_failed');
      expect(errorType(decideAdminAccount(null, { email: 'ops@example.test', password: 'short' }))).toBe('validation_failed');
    });
  });

  describe('decideRefresh', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    const live: RefreshTokenState = { expires_at: new Date('2026-11-26T12:00:00Z'), spent_at: null, family_revoked_at: null, user_is_active: true };
    it('rotates a live token', () => {
      expect(decideRefresh(live, now)).toEqual({ action: 'rotate' });
    });
    it('refuses an unknown token without revoking anything', () => {
      expect(decideRefresh(undefined, now)).toEqual({ action: 'refuse', reason: 'unknown', revokeFamily: false });
    });
    it('treats a spent token as reuse and revokes its whole family', () => {
      expect(decideRefresh({ ...live, spent_at: now }, now)).toEqual({ action: 'refuse', reason: 'reused', revokeFamily: true });
    });
    it('refuses a token of a revoked family, an expired token (at the instant of expiry too) and an inactive user', () => {
      expect(decideRefresh({ ...live, family_revoked_at: now }, now)).toMatchObject({ action: 'refuse', reason: 'revoked' });
      expect(decideRefresh({ ...live, expires_at: now }, now)).toMatchObject({ action: 'refuse', reason: 'expired', revokeFamily: false });
      expect(decideRefresh({ ...live, user_is_active: false }, now)).toMatchObject({ action: 'refuse', reason: 'inactive', revokeFamily: true });
    });
    it('never rotates a token that is spent, expired, revoked or whose user is inactive', () => {
      const date = fc.date({ min: new Date('2026-01-01'), max: new Date('2027-12-31'), noInvalidDate: true });
      fc.assert(
        fc.property(date, fc.option(date, { nil: null }), fc.option(date, { nil: null }), fc.boolean(), date, (expires_at, spent_at, family_revoked_at, user_is_active, at) => {
          const d = decideRefresh({ expires_at, spent_at, family_revoked_at, user_is_active }, at);
          const good = spent_at === null && family_revoked_at === null && user_is_active && expires_at.getTime() > at.getTime();
          expect(d.action === 'rotate').toBe(good);
        }),
      );
    });
  });

  describe('properties: no non-admin ever gains a role', () => {
    const role = fc.constantFrom<Role>(...ROLES);
    const nonAdmin = fc.record({ id: fc.constantFrom('alice', 'bob'), role: fc.constantFrom<Role>('customer', 'vendor') });
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
    const text = fc.oneof(fc.constant(PASSWORD), fc.constant('new@example.test'), fc.string({ maxLength: 12 }));

    it('a sign-up by a non-admin or anonymous caller never yields an admin, nor a chosen is_active', () => {
      fc.assert(
        fc.property(fc.option(nonAdmin, { nil: null }), maybe(role), maybe(fc.boolean()), text, (actor, r, is_active, password) => {
          const d = decideSignUp(actor, { email: 'new@example.test', password, role: r, is_active });
          if (d.ok) {
            expect(d.value.role).not.toBe('admin');
            expect(d.value.is_active).toBe(true);
            expect(is_active).toBeUndefined();
          }
        }),
      );
    });

    it('a patch by a non-admin never changes anyone\'s role or is_active', () => {
      const target = fc.record({ id: fc.constantFrom('alice', 'bob', 'root'), email: fc.constant('t@example.test'), role, is_active: fc.boolean() });
      const patch = fc.record(
        {
          full_name: maybe(fc.string({ maxLength: 10 })),
          email: maybe(text),
          password: maybe(text),
          current_password: maybe(text),
          role: maybe(role),
          is_active: maybe(fc.boolean()),
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(nonAdmin, target, patch, (actor, t, p) => {
          const d = decideUserPatch(actor, t, p);
          if (d.ok) {
            expect(d.value.changes.role).toBeUndefined();
            expect(d.value.changes.is_active).toBeUndefined();
            expect(t.id).toBe(actor.id);
          }
        }),
      );
    });
  });
});

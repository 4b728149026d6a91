import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authorizeFields,
  authorizeRead,
  authorizeRole,
  authorizeWrite,
  isAdmin,
  owns,
  ROLES,
  type Actor,
  type OwnedObject,
  type Role,
} from '../../core/policy.js';

const alice: Actor = { id: 'alice', role: 'customer' };
const bob: Actor = { id: 'bob', role: 'vendor' };
const root: Actor = { id: 'root', role: 'admin' };

const privateOf = (ownerUserId: string | null): OwnedObject => ({ ownerUserId, visibleToOthers: false });
const publicOf = (ownerUserId: string | null): OwnedObject => ({ ownerUserId, visibleToOthers: true });

const errorType = (r: { ok: boolean; error?: { type: string } }) => (r.ok ? 'ok' : r.error!.type);

describe('core/policy: roles and ownership', () => {
  describe('authorizeRead', () => {
    // [actor, object, expected]: the whole matrix of who sees what.
    const matrix: [string, Actor | null, OwnedObject, string][] = [
      ['the owner sees their private object', alice, privateOf('alice'), 'ok'],
      ['another customer does not see it: not_found, never forbidden', bob, privateOf('alice'), 'not_found'],
      ['an anonymous caller does not see it', null, privateOf('alice'), 'not_found'],
      ['an admin sees it', root, privateOf('alice'), 'ok'],
      ['nobody but an admin sees an unowned private object', alice, privateOf(null), 'not_found'],
      ['an admin sees an unowned private object', root, privateOf(null), 'ok'],
      ['anyone sees a public object', bob, publicOf('alice'), 'ok'],
      ['an anonymous caller sees a public object', null, publicOf('alice'), 'ok'],
    ];
    it.each(matrix)('%s', (_name, actor, object, expected) => {
      expect(errorType(authorizeRead(actor, object))).toBe(expected);
    });
  });

  describe('authorizeWrite', () => {
    const matrix: [string, Actor, OwnedObject, string][] = [
      ['the owner may change their object', alice, privateOf('alice'), 'ok'],
      ['an admin may change anything', root, privateOf('alice'), 'ok'],
      ['an admin may change a public object', root, publicOf('bob'), 'ok'],
      ["someone else's private object is not_found", bob, privateOf('alice'), 'not_found'],
      ["someone else's public object is forbidden (seen, not changeable)", alice, publicOf('bob'), 'forbidden'],
      ['an unowned public object is forbidden for non-admins', alice, publicOf(null), 'forbidden'],
      ['an unowned private object is not_found for non-admins', bob, privateOf(null), 'not_found'],
    ];
    it.each(matrix)('%s', (_name, actor, object, expected) => {
      expect(errorType(authorizeWrite(actor, object))).toBe(expected);
    });
  });

  describe('authorizeFields', () => {
    const adminOnly = ['role', 'is_active', 'vendor_id'];
    it('lets an admin write admin-only fields', () => {
      expect(authorizeFields(root, ['role', 'is_active', 'vendor_id', 'name'], adminOnly).ok).toBe(true);
    });
    it('lets anyone write fields that are not admin-only', () => {
      for (const actor of [alice, bob, null]) expect(authorizeFields(actor, ['full_name', 'email'], adminOnly).ok).toBe(true);
    });
    it('refuses a non-admin sending any admin-only field as a whole, naming the fields', () => {
      for (const actor of [alice, bob, null]) {
        const r = authorizeFields(actor, ['full_name', 'role', 'is_active'], adminOnly);
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.error.type).toBe('forbidden');
          expect(r.error.detail).toMatch(/role, is_active/);
        }
      }
    });
  });

  describe('authorizeRole', () => {
    it.each(ROLES.flatMap((role) => ROLES.map((required) => [role, required] as const)))('a %s asking for a %s-only action', (role, required) => {
      expect(errorType(authorizeRole({ id: 'x', role }, [required]))).toBe(role === required ? 'ok' : 'forbidden');
    });
    it('accepts any of several roles', () => {
      expect(authorizeRole(bob, ['customer', 'vendor']).ok).toBe(true);
    });
  });

  describe('isAdmin and owns', () => {
    it('knows only admins are admins and anonymous callers own nothing', () => {
      expect(ROLES.filter((role) => isAdmin({ id: 'x', role }))).toEqual(['admin']);
      expect(isAdmin(null)).toBe(false);
      expect(owns(null, { ownerUserId: 'alice' })).toBe(false);
      expect(owns(alice, { ownerUserId: null })).toBe(false);
      expect(owns(alice, { ownerUserId: 'alice' })).toBe(true);
    });
  });

  describe('properties', () => {
    const role = fc.constantFrom<Role>(...ROLES);
    const nonAdminRole = fc.constantFrom<Role>('customer', 'vendor');
    const id = fc.constantFrom('u1', 'u2', 'u3');
    const actor = fc.record({ id, role });
    const object = fc.record({ ownerUserId: fc.option(id, { nil: null }), visibleToOthers: fc.boolean() });

    it('never answers forbidden for an object the caller cannot see (404-not-403)', () => {
      fc.assert(
        fc.property(actor, object, (a, o) => {
          if (!authorizeRead(a, o).ok) expect(errorType(authorizeWrite(a, o))).toBe('not_found');
        }),
      );
    });

    it('lets anyone who may write an object also read it', () => {
      fc.assert(
        fc.property(actor, object, (a, o) => {
          if (authorizeWrite(a, o).ok) expect(authorizeRead(a, o).ok).toBe(true);
        }),
      );
    });

    it('never lets a non-admin write a field that is admin-only', () => {
      const field = fc.constantFrom('role', 'is_active', 'vendor_id', 'full_name', 'email', 'name');
      fc.assert(
        fc.property(fc.record({ id, role: nonAdminRole }), fc.array(field), (a, sent) => {
          const adminOnly = ['role', 'is_active', 'vendor_id'];
          const r = authorizeFields(a, sent, adminOnly);
          expect(r.ok).toBe(!sent.some((f) => adminOnly.includes(f)));
        }),
      );
    });
  });
});

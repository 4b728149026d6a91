import { fail, ok, type Result } from './errors.js';

/**
 * Who may do what: roles and ownership. Pure; the shell loads the facts (who owns the object, whether
 * it is publicly visible) and asks here.
 *
 * The 404-not-403 rule: an object the caller cannot see answers not_found, so ids cannot be probed;
 * an object the caller can see but not change answers forbidden.
 */

export const ROLES = ['customer', 'vendor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  id: string;
  role: Role;
}

export interface OwnedObject {
  /** The user who owns the object (a vendor's user, a customer), or null if nobody does. */
  ownerUserId: string | null;
  /** Whether this actor can see the object even though it is not theirs (a public product, vendor profile). */
  visibleToOthers: boolean;
}

export const isAdmin = (actor: Actor | null): boolean => actor?.role === 'admin';
export const owns = (actor: Actor | null, object: Pick<OwnedObject, 'ownerUserId'>): boolean =>
  actor !== null && object.ownerUserId !== null && actor.id === object.ownerUserId;

/** May this actor (or an anonymous caller) see the object? */
export function authorizeRead(actor: Actor | null, object: OwnedObject): Result<void> {
  if (object.visibleToOthers || isAdmin(actor) || owns(actor, object)) return ok(undefined);
  return fail({ type: 'not_found' });
}

/** May this actor change the object? Owners and admins may; others get forbidden if they can see it, else not_found. */
export function authorizeWrite(actor: Actor, object: OwnedObject): Result<void> {
  if (isAdmin(actor) || owns(actor, object)) return ok(undefined);
  return object.visibleToOthers ? fail({ type: 'forbidden', detail: 'Only the owner or an admin may change this' }) : fail({ type: 'not_found' });
}

/**
 * Fields only admins may write (role, is_active, vendor_id…): a non-admin sending any of them is refused
 * as a whole with forbidden, and nothing is changed.
 */
export function authorizeFields(actor: Actor | null, sent: readonly string[], adminOnly: readonly string[]): Result<void> {
  if (isAdmin(actor)) return ok(undefined);
  const refused = sent.filter((f) => adminOnly.includes(f));
  if (refused.length === 0) return ok(undefined);
  return fail({ type: 'forbidden', detail: `Your role may not set ${refused.join(', ')}` });
}

/** Does the actor have one of the roles? */
export function authorizeRole(actor: Actor, roles: readonly Role[]): Result<void> {
  return roles.includes(actor.role) ? ok(undefined) : fail({ type: 'forbidden', detail: `This action requires the role ${roles.join(' or ')}` });
}

/**
 * What an actor sees of an order: admins and the customer who placed it see all of it; a vendor whose
 * products are in it sees only its own lines ('vendor_lines'); anyone else gets not_found.
 */
export function authorizeOrderRead(
  actor: Actor,
  order: { customer_id: string; lineVendorIds: readonly string[] },
  actorVendorIds: readonly string[],
): Result<'whole' | 'vendor_lines'> {
  if (isAdmin(actor)) return ok('whole');
  if (actor.role === 'customer' && order.customer_id === actor.id) return ok('whole');
  if (actor.role === 'vendor' && order.lineVendorIds.some((id) => actorVendorIds.includes(id))) return ok('vendor_lines');
  return fail({ type: 'not_found', detail: 'No such order' });
}

/** Payments: the paying customer and admins; anyone else gets not_found (vendors are refused by role before). */
export function authorizePaymentRead(actor: Actor, payment: { customer_id: string }): Result<void> {
  if (isAdmin(actor) || payment.customer_id === actor.id) return ok(undefined);
  return fail({ type: 'not_found', detail: 'No such payment' });
}

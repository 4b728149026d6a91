import { fail, ok, type FieldProblem, type Result } from './errors.js';
import { authorizeFields, authorizeRead, isAdmin, type Actor, type Role } from './policy.js';

/**
 * The rules about user accounts: sign-up, who may see and change which user, which fields each role may
 * write, the password policy, and when a change must cut off the user's existing sessions.
 * Pure: the shell loads the user rows, hashes and verifies passwords, and writes what is decided here.
 */

export const PASSWORD_MIN_LENGTH = 10;
/** argon2 takes any length; the cap only stops a client from making us hash megabytes. */
export const PASSWORD_MAX_LENGTH = 1024;
export const EMAIL_MAX_LENGTH = 254;
export const FULL_NAME_MAX_LENGTH = 200;

/** Roles anyone may pick at sign-up; `admin` is granted only by an admin. */
export const SELF_SERVICE_ROLES: readonly Role[] = ['customer', 'vendor'];
/** Fields of a user that only an admin may write, at sign-up and in a patch. */
export const USER_ADMIN_ONLY_FIELDS = ['role', 'is_active'] as const;

export interface UserState {
  id: string;
  email: string;
  role: Role;
  is_active: boolean;
}

/** Emails are stored as given (trimmed) and compared case-insensitively. */
export const normalizeEmail = (email: string): string => email.trim();
/** The form emails are compared in (the unique index is on lower(email)). */
export const emailKey = (email: string): string => email.trim().toLowerCase();

const invalid = (path: string, message: string) => fail({ type: 'validation_failed', detail: message, errors: [{ path, message }] });

/** Counts characters, not UTF-16 units, so ten emoji are ten characters. */
export function checkPassword(password: string, path = 'password'): Result<void> {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return invalid(path, `Password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (length > PASSWORD_MAX_LENGTH) return invalid(path, `Password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  return ok(undefined);
}

/** A plain shape check for operator input (the HTTP schemas validate emails more thoroughly). */
export function checkEmail(email: string, path = 'email'): Result<string> {
  const trimmed = normalizeEmail(email);
  if (trimmed.length > EMAIL_MAX_LENGTH || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(trimmed)) return invalid(path, 'Not a valid email address');
  return ok(trimmed);
}

/** May the actor see this user? Self or admin; anyone else is told it does not exist (404-not-403). */
export function authorizeUserAccess(actor: Actor | null, target: Pick<UserState, 'id'>): Result<void> {
  return authorizeRead(actor, { ownerUserId: target.id, visibleToOthers: false });
}

/** Which users a list shows the actor: admins see everyone, anyone else only themselves. */
export const userListScope = (actor: Actor): 'all' | 'self' => (isAdmin(actor) ? 'all' : 'self');

/** Fields of their own account every user may write. */
export const USER_SELF_FIELDS = ['full_name', 'email', 'password'] as const;

/** The user fields this actor may write on this target (empty when the target is not theirs to see). */
export function writableUserFields(actor: Actor, target: Pick<UserState, 'id'>): string[] {
  if (isAdmin(actor)) return [...USER_SELF_FIELDS, ...USER_ADMIN_ONLY_FIELDS];
  return actor.id === target.id ? [...USER_SELF_FIELDS] : [];
}

export interface SignUpRequest {
  email: string;
  password: string;
  full_name?: string | undefined;
  role?: Role | undefined;
  is_active?: boolean | undefined;
}

export interface NewUserDecision {
  email: string;
  full_name: string;
  role: Role;
  is_active: boolean;
}

/**
 * Sign-up, public or by an admin. Anyone may become a customer or a vendor; only an admin may create an
 * admin or choose `is_active`. Anyone else sending `is_active` at all, or asking for `admin`, is refused.
 */
export function decideSignUp(actor: Actor | null, request: SignUpRequest): Result<NewUserDecision> {
  const adminOnly: string[] = [];
  if (request.role !== undefined && !SELF_SERVICE_ROLES.includes(request.role)) adminOnly.push('role');
  if (request.is_active !== undefined) adminOnly.push('is_active');
  const fields = authorizeFields(actor, adminOnly, USER_ADMIN_ONLY_FIELDS);
  if (!fields.ok) return fields;
  const email = checkEmail(request.email);
  if (!email.ok) return email;
  const password = checkPassword(request.password);
  if (!password.ok) return password;
  return ok({
    email: email.value,
    full_name: (request.full_name ?? '').trim(),
    role: request.role ?? 'customer',
    is_active: request.is_active ?? true,
  });
}

export interface UserPatchRequest {
  full_name?: string | undefined;
  email?: string | undefined;
  password?: string | undefined;
  current_password?: string | undefined;
  role?: Role | undefined;
  is_active?: boolean | undefined;
}

export interface UserPatchDecision {
  /** Column changes to write (the password hash is the shell's to compute when `setPassword`). */
  changes: { full_name?: string; email?: string; role?: Role; is_active?: boolean };
  setPassword: boolean;
  /** The shell must verify `current_password` against the stored hash before writing anything. */
  verifyCurrentPassword: boolean;
  /**
   * A new password, a role change or a deactivation ends every session at once: refresh families are
   * revoked and token_version is bumped so access tokens already issued stop working.
   */
  revokeSessions: boolean;
}

/**
 * A change to a user. Order matters: a target the actor cannot see is not_found before anything else
 * (so ids cannot be probed); then admin-only fields are forbidden as a whole, nothing changed; then input.
 *
 * Changing one's own password needs `current_password` (admins too, for their own account); an admin
 * resetting someone else's password does not (they cannot know it), and sending one there is refused.
 */
export function decideUserPatch(actor: Actor, target: UserState, request: UserPatchRequest): Result<UserPatchDecision> {
  const access = authorizeUserAccess(actor, target);
  if (!access.ok) return access;
  const writable = writableUserFields(actor, target);
  const refused = [...USER_SELF_FIELDS, ...USER_ADMIN_ONLY_FIELDS].filter((f) => request[f] !== undefined && !writable.includes(f));
  if (refused.length > 0) return fail({ type: 'forbidden', detail: `Your role may not set ${refused.join(', ')}` });

  const problems: FieldProblem[] = [];
  const self = actor.id === target.id;
  if (request.password !== undefined) {
    const password = checkPassword(request.password);
    if (!password.ok && password.error.type === 'validation_failed') problems.push(...password.error.errors);
    if (self && request.current_password === undefined) problems.push({ path: 'current_password', message: 'Required to change your password' });
  }
  if (request.current_password !== undefined && (request.password === undefined || !self)) {
    problems.push({ path: 'current_password', message: 'Only accepted together with a new password for your own account' });
  }
  const changes: UserPatchDecision['changes'] = {};
  if (request.email !== undefined) {
    const email = checkEmail(request.email);
    if (email.ok) changes.email = email.value;
    else if (email.error.type === 'validation_failed') problems.push(...email.error.errors);
  }
  if (problems.length > 0) return fail({ type: 'validation_failed', detail: problems.map((p) => p.message).join('; '), errors: problems });

  if (request.full_name !== undefined) changes.full_name = request.full_name.trim();
  if (request.role !== undefined) changes.role = request.role;
  if (request.is_active !== undefined) changes.is_active = request.is_active;

  const setPassword = request.password !== undefined;
  const roleChanged = changes.role !== undefined && changes.role !== target.role;
  const deactivated = changes.is_active === false && target.is_active;
  return ok({
    changes,
    setPassword,
    verifyCurrentPassword: setPassword && self,
    revokeSessions: setPassword || roleChanged || deactivated,
  });
}

/** DELETE deactivates: self or admin. Deactivating an inactive user again is a no-op success. */
export function decideDeactivation(actor: Actor, target: UserState): Result<{ alreadyInactive: boolean }> {
  const access = authorizeUserAccess(actor, target);
  if (!access.ok) return access;
  return ok({ alreadyInactive: !target.is_active });
}

/**
 * The operator's create-admin command: create a new admin, or promote and reactivate an existing user
 * with a new password (their sessions end, as for any role or password change).
 */
export function decideAdminAccount(
  existing: UserState | null,
  input: { email: string; password: string; full_name?: string | undefined },
): Result<{ action: 'create' | 'promote'; email: string; full_name: string | undefined; revokeSessions: boolean }> {
  const email = checkEmail(input.email);
  if (!email.ok) return email;
  const password = checkPassword(input.password);
  if (!password.ok) return password;
  const full_name = input.full_name?.trim();
  if (existing === null) return ok({ action: 'create', email: email.value, full_name: full_name ?? '', revokeSessions: false });
  return ok({ action: 'promote', email: email.value, full_name, revokeSessions: true });
}

/** What the shell knows about a presented refresh token; undefined when no such token was ever issued. */
export interface RefreshTokenState {
  expires_at: Date;
  spent_at: Date | null;
  family_revoked_at: Date | null;
  user_is_active: boolean;
}

export type RefreshDecision =
  | { action: 'rotate' }
  | { action: 'refuse'; reason: 'unknown' | 'revoked' | 'reused' | 'expired' | 'inactive'; revokeFamily: boolean };

/**
 * Refresh-token rotation with reuse detection. A token is good once: presenting a spent one means it
 * was copied, so the whole login (family) is revoked, including the token that replaced it. The
 * revocation is a write the shell must commit even though the caller is refused.
 */
export function decideRefresh(token: RefreshTokenState | undefined, now: Date): RefreshDecision {
  if (token === undefined) return { action: 'refuse', reason: 'unknown', revokeFamily: false };
  if (token.family_revoked_at !== null) return { action: 'refuse', reason: 'revoked', revokeFamily: false };
  if (token.spent_at !== null) return { action: 'refuse', reason: 'reused', revokeFamily: true };
  if (token.expires_at.getTime() <= now.getTime()) return { action: 'refuse', reason: 'expired', revokeFamily: false };
  if (!token.user_is_active) return { action: 'refuse', reason: 'inactive', revokeFamily: true };
  return { action: 'rotate' };
}

import { randomUUID } from 'node:crypto';
import type { DB } from '../../db/database.js';
import type { Actor } from '../../core/policy.js';
import {
  authorizeUserAccess,
  decideAdminAccount,
  decideDeactivation,
  decideSignUp,
  decideUserPatch,
  userListScope,
  type SignUpRequest,
  type UserPatchRequest,
} from '../../core/users.js';
import { authFactsChanged, invalidateUserAuth } from '../auth-cache.js';
import type { Cache } from '../cache.js';
import { invalidateCatalog } from '../catalog-cache.js';
import type { AppContext } from '../context.js';
import { mapUniqueViolation } from '../db-errors.js';
import { keysetPage, oldestFirst, toPage, type Page } from '../pagination.js';
import { failure, unwrap } from '../../core/errors.js';
import { hashPassword, verifyPassword } from '../passwords.js';
import { revokeUserFamilies } from '../repos/refresh-tokens.js';
import { emailTaken, findUserByEmail, findUserById, insertUser, updateUser, usersListQuery } from '../repos/users.js';
import { userView, type User } from '../shapes/users.js';
import { inSerializableTx } from '../tx.js';

/** User accounts: sign-up, reading, changing and deactivating users, and the operator's create-admin. */

const emailTakenProblem = () => failure({ type: 'email_taken', detail: 'A user with this email already exists' });
const notFound = () => failure({ type: 'not_found', detail: 'No such user' });

export async function signUp(ctx: AppContext, actor: Actor | null, request: SignUpRequest): Promise<User> {
  const decision = unwrap(decideSignUp(actor, request));
  // Checked before hashing so a duplicate costs no hashing; the unique index settles races.
  if (await emailTaken(ctx.db, decision.email)) throw emailTakenProblem();
  const passwordHash = await hashPassword(request.password);
  const now = ctx.now();
  const user = await mapUniqueViolation(emailTakenProblem, () =>
    insertUser(ctx.db, { id: randomUUID(), ...decision, password_hash: passwordHash, created_at: now, updated_at: now }),
  );
  return userView(user);
}

export async function listUsers(
  ctx: AppContext,
  listUrl: string,
  actor: Actor,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<User>> {
  const base = usersListQuery(ctx.db, userListScope(actor) === 'all' ? undefined : actor.id);
  const page = await keysetPage(ctx.paginator, base, oldestFirst('users:created_at,id', query));
  return toPage(listUrl, page, userView);
}

export async function getUser(ctx: AppContext, actor: Actor, id: string): Promise<User> {
  // Asked before loading, so another user's id and a missing id are the same 404.
  unwrap(authorizeUserAccess(actor, { id }));
  const user = await findUserById(ctx.db, id);
  if (!user) throw notFound();
  return userView(user);
}

export async function patchUser(ctx: AppContext, actor: Actor, id: string, request: UserPatchRequest): Promise<User> {
  unwrap(authorizeUserAccess(actor, { id }));
  const target = await findUserById(ctx.db, id);
  if (!target) throw notFound();
  // Decided once up front to fail fast before any hashing, and again on the state read in the transaction.
  const first = unwrap(decideUserPatch(actor, target, request));
  if (first.verifyCurrentPassword && !(await verifyPassword(target.password_hash, request.current_password ?? ''))) {
    throw failure({ type: 'invalid_credentials', detail: 'current_password is wrong' });
  }
  if (first.changes.email !== undefined && (await emailTaken(ctx.db, first.changes.email, id))) throw emailTakenProblem();
  const newHash = first.setPassword ? await hashPassword(request.password!) : undefined;
  const now = ctx.now();

  const { before, updated } = await mapUniqueViolation(emailTakenProblem, () =>
    inSerializableTx(ctx.db, async (trx) => {
      const fresh = await findUserById(trx, id);
      if (!fresh) throw notFound();
      const decision = unwrap(decideUserPatch(actor, fresh, request));
      // The password was verified against the hash read above; a change since then invalidates that check.
      if (decision.verifyCurrentPassword && fresh.password_hash !== target.password_hash) {
        throw failure({ type: 'invalid_credentials', detail: 'current_password is wrong' });
      }
      if (decision.changes.email !== undefined && (await emailTaken(trx, decision.changes.email, id))) throw emailTakenProblem();
      const user = await updateUser(trx, id, { ...decision.changes, ...(newHash ? { password_hash: newHash } : {}) }, now, decision.revokeSessions);
      if (decision.revokeSessions) await revokeUserFamilies(trx, id, now, 'sessions_revoked');
      return { before: fresh, updated: user };
    }),
  );
  // A new role, activity or token version must reach authentication before this answers.
  if (authFactsChanged(before, updated)) await invalidateUserAuth(ctx.cache);
  // A vendor user's is_active decides whether the vendor's products are public (core isPubliclyVisible).
  if (request.is_active !== undefined) await invalidateCatalog(ctx.cache);
  return userView(updated);
}

/** DELETE: the user can no longer log in, their sessions end at once; their orders and payments stay. */
export async function deactivateUser(ctx: AppContext, actor: Actor, id: string): Promise<void> {
  unwrap(authorizeUserAccess(actor, { id }));
  const now = ctx.now();
  await inSerializableTx(ctx.db, async (trx) => {
    const user = await findUserById(trx, id);
    if (!user) throw notFound();
    const decision = unwrap(decideDeactivation(actor, user));
    if (decision.alreadyInactive) return;
    await updateUser(trx, id, { is_active: false }, now, true);
    await revokeUserFamilies(trx, id, now, 'sessions_revoked');
  });
  // Their access tokens stop working at once; a deactivated vendor user's store leaves the catalog at
  // once, cached answers included.
  await invalidateUserAuth(ctx.cache);
  await invalidateCatalog(ctx.cache);
}

export interface AdminAccountOutcome {
  action: 'create' | 'promote';
  user: User;
  sessionsRevoked: number;
}

/**
 * The operator's create-admin: a new admin, or an existing user promoted, reactivated and given a new password.
 * `cache` is the API's shared cache (Redis) when this process can reach it: a promotion then cuts off the
 * user's access tokens at once. With null (no REDIS_URL), an API process that cached the user's facts keeps
 * accepting their old tokens for up to USER_AUTH_TTL_SECONDS (shell/auth-cache.ts).
 */
export async function createOrPromoteAdmin(
  db: DB,
  cache: Cache | null,
  now: Date,
  input: { email: string; password: string; full_name?: string | undefined },
): Promise<AdminAccountOutcome> {
  const existing = await findUserByEmail(db, input.email);
  unwrap(decideAdminAccount(existing ?? null, input));
  const passwordHash = await hashPassword(input.password);
  const id = randomUUID();
  const outcome = await mapUniqueViolation(emailTakenProblem, () =>
    inSerializableTx(db, async (trx) => {
      const current = await findUserByEmail(trx, input.email);
      const decision = unwrap(decideAdminAccount(current ?? null, input));
      if (decision.action === 'create' || !current) {
        const user = await insertUser(trx, {
          id,
          email: decision.email,
          full_name: decision.full_name ?? '',
          password_hash: passwordHash,
          role: 'admin',
          is_active: true,
          created_at: now,
          updated_at: now,
        });
        return { action: 'create' as const, user: userView(user), sessionsRevoked: 0 };
      }
      const user = await updateUser(
        trx,
        current.id,
        { role: 'admin', is_active: true, password_hash: passwordHash, ...(decision.full_name !== undefined ? { full_name: decision.full_name } : {}) },
        now,
        decision.revokeSessions,
      );
      const sessionsRevoked = decision.revokeSessions ? await revokeUserFamilies(trx, current.id, now, 'sessions_revoked') : 0;
      return { action: 'promote' as const, user: userView(user), sessionsRevoked };
    }),
  );
  // A promotion changes role, is_active and token_version (a new user was never cached: not-found is not
  // stored), and may reactivate a vendor's user, whose store comes back into the catalog.
  if (outcome.action === 'promote' && cache) {
    try {
      await invalidateUserAuth(cache);
      await invalidateCatalog(cache);
    } catch (error) {
      throw new Error(
        `the promotion of ${input.email} is saved, but the API's cache could not be told (${error instanceof Error ? error.message : String(error)}): ` +
          'old access tokens may keep working for up to 60 s; run the command again once Redis answers',
        { cause: error },
      );
    }
  }
  return outcome;
}

import type { DB } from '../db/database.js';
import { ROLES } from '../core/policy.js';
import type { Cache } from './cache.js';
import { reportCacheOutage } from './cache-outage.js';
import type { Logger } from './context.js';
import { findUserAuthFacts, type UserAuthFacts } from './repos/users.js';

/**
 * Read-through cache of the user facts every authenticated request checks (role, is_active,
 * token_version), on top of ctx.cache, with the catalog cache's discipline (shell/catalog-cache.ts):
 *
 * - Entries carry the generation of the 'users' namespace read BEFORE the database, in the same round
 *   trip as the entry (cache.lookup), and are served only while that is still the current generation.
 * - Every write that changes a user's role, is_active or token_version bumps that generation after it
 *   commits and before it answers (invalidateUserAuth). A reader that loaded the row before the write
 *   stored it for the retired generation, so once the write has answered no request is authenticated
 *   with the old facts: deactivation, a password change or a role change still cut off tokens at once.
 * - A user that does not exist is never stored; entries live USER_AUTH_TTL_SECONDS at most (a backstop
 *   for a write this process cannot see bump, such as create-admin run without REDIS_URL).
 * - A cache outage reads the database and stores nothing: authentication never fails because of it.
 */

export const USERS_NAMESPACE = 'users';
export const USER_AUTH_TTL_SECONDS = 60;

const ROLE_SET: ReadonlySet<string> = new Set(ROLES);

/** "role active token_version", e.g. "customer 1 3": a few bytes, checked field by field when read back. */
function encode(facts: UserAuthFacts): Buffer {
  return Buffer.from(`${facts.role} ${facts.is_active ? 1 : 0} ${facts.token_version}`, 'latin1');
}

function decode(value: Buffer): UserAuthFacts | null {
  const [role, active, version, ...rest] = value.toString('latin1').split(' ');
  const token_version = Number(version);
  if (rest.length > 0 || role === undefined || !ROLE_SET.has(role) || (active !== '0' && active !== '1') || !Number.isSafeInteger(token_version)) return null;
  return { role: role as UserAuthFacts['role'], is_active: active === '1', token_version };
}

/** The auth facts of user `id` (a lowercase UUID), from the cache while current, else from the database; undefined if no such user. */
export async function loadUserAuthFacts(db: DB, cache: Cache, log: Logger, id: string): Promise<UserAuthFacts | undefined> {
  let generation: number | null;
  try {
    const found = await cache.lookup(USERS_NAMESPACE, id);
    if (found.stored !== null && found.stored.generation === found.generation) {
      const facts = decode(found.stored.value);
      if (facts) return facts;
    }
    generation = found.generation;
  } catch (error) {
    reportCacheOutage(log, 'users cache unavailable', error);
    generation = null;
  }
  const facts = await findUserAuthFacts(db, id);
  if (facts && generation !== null) {
    await cache.store(USERS_NAMESPACE, id, generation, encode(facts), USER_AUTH_TTL_SECONDS).catch((error: unknown) => reportCacheOutage(log, 'users cache write failed', error));
  }
  return facts;
}

/** Retires every cached user auth entry; call after a write to a user's role, is_active or token_version commits, before answering. */
export async function invalidateUserAuth(cache: Cache): Promise<void> {
  await cache.bump(USERS_NAMESPACE);
}

/** Whether a user row changed in a way authentication sees (so the write must call invalidateUserAuth). */
export function authFactsChanged(before: UserAuthFacts, after: UserAuthFacts): boolean {
  return before.role !== after.role || before.is_active !== after.is_active || before.token_version !== after.token_version;
}

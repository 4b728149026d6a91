import { sql } from 'kysely';
import type { DB, NewUser, Role, Trx, UserRow } from '../../db/database.js';

/** Users: plain queries over the users table. Emails are matched on lower(email), the unique index. */

type Executor = DB | Trx;

export const USER_COLUMNS = ['id', 'email', 'full_name', 'role', 'is_active', 'created_at', 'token_version', 'password_hash'] as const;

export type StoredUser = Pick<UserRow, (typeof USER_COLUMNS)[number]>;

export function findUserById(db: Executor, id: string): Promise<StoredUser | undefined> {
  return db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** What authenticating an access token needs to know about its user (see shell/auth-cache.ts). */
export type UserAuthFacts = Pick<UserRow, 'role' | 'is_active' | 'token_version'>;

export function findUserAuthFacts(db: Executor, id: string): Promise<UserAuthFacts | undefined> {
  return db.selectFrom('users').select(['role', 'is_active', 'token_version']).where('id', '=', id).executeTakeFirst();
}

export function findUserByEmail(db: Executor, email: string): Promise<StoredUser | undefined> {
  return db
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

/** Is the email (compared case-insensitively) used by a user other than `exceptId`? */
export async function emailTaken(db: Executor, email: string, exceptId?: string): Promise<boolean> {
  let q = db.selectFrom('users').select('id').where(sql<string>`lower(email)`, '=', email.trim().toLowerCase());
  if (exceptId) q = q.where('id', '<>', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

export async function insertUser(db: Executor, user: NewUser): Promise<StoredUser> {
  return db.insertInto('users').values(user).returning(USER_COLUMNS).executeTakeFirstOrThrow();
}

export interface UserChanges {
  email?: string;
  full_name?: string;
  role?: Role;
  is_active?: boolean;
  password_hash?: string;
}

/** Applies changes; `bumpTokenVersion` invalidates every access token issued so far. */
export async function updateUser(db: Executor, id: string, changes: UserChanges, now: Date, bumpTokenVersion: boolean): Promise<StoredUser> {
  return db
    .updateTable('users')
    .set({ ...changes, updated_at: now, ...(bumpTokenVersion ? { token_version: sql<number>`token_version + 1` } : {}) })
    .where('id', '=', id)
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** The base query of the users list (ordering and paging are added by keysetPage). */
export function usersListQuery(db: Executor, onlyId?: string) {
  let q = db.selectFrom('users').select(USER_COLUMNS);
  if (onlyId) q = q.where('id', '=', onlyId);
  return q;
}

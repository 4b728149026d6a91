import type { DB, Trx } from '../../db/database.js';

/**
 * Refresh tokens: one family per login, one row per token issued in it (only the SHA-256 of the token is
 * stored). Revoking a family ends that login; spent tokens stay to detect reuse.
 */

type Executor = DB | Trx;

export type RevocationReason = 'logout' | 'reuse' | 'sessions_revoked';

export async function insertFamily(db: Executor, family: { id: string; user_id: string; created_at: Date }): Promise<void> {
  await db.insertInto('refresh_families').values(family).execute();
}

export async function insertRefreshToken(
  db: Executor,
  token: { id: string; family_id: string; token_hash: string; expires_at: Date; created_at: Date },
): Promise<void> {
  await db.insertInto('refresh_tokens').values(token).execute();
}

/** The token with its family's state and its user's, or undefined for a hash nobody issued. */
export function findRefreshToken(db: Executor, tokenHash: string) {
  return db
    .selectFrom('refresh_tokens as t')
    .innerJoin('refresh_families as f', 'f.id', 't.family_id')
    .innerJoin('users as u', 'u.id', 'f.user_id')
    .select([
      't.id',
      't.family_id',
      't.expires_at',
      't.spent_at',
      'f.revoked_at as family_revoked_at',
      'u.id as user_id',
      'u.role',
      'u.is_active',
      'u.token_version',
    ])
    .where('t.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Marks a token spent; false if it was already spent (someone else rotated it first). */
export async function spendRefreshToken(db: Executor, id: string, now: Date): Promise<boolean> {
  const result = await db.updateTable('refresh_tokens').set({ spent_at: now }).where('id', '=', id).where('spent_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function revokeFamily(db: Executor, familyId: string, now: Date, reason: RevocationReason): Promise<void> {
  await db
    .updateTable('refresh_families')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Ends every login of a user; returns how many were still live. */
export async function revokeUserFamilies(db: Executor, userId: string, now: Date, reason: RevocationReason): Promise<number> {
  const result = await db
    .updateTable('refresh_families')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

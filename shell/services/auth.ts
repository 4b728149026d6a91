import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../../db/database.js';
import { decideRefresh, type RefreshDecision } from '../../core/users.js';
import type { AppContext } from '../context.js';
import { failure } from '../../core/errors.js';
import { hashPassword, needsRehash, verifyAgainstNobody, verifyPassword } from '../passwords.js';
import { findRefreshToken, insertFamily, insertRefreshToken, revokeFamily, spendRefreshToken } from '../repos/refresh-tokens.js';
import { findUserByEmail, findUserById } from '../repos/users.js';
import { inSerializableTx } from '../tx.js';

/**
 * Sessions: login, refresh-token rotation with reuse detection, logout.
 *
 * A login opens a refresh family; each refresh spends the presented token and issues the next one in the
 * same family, each living REFRESH_TOKEN_TTL_SECONDS from its issue. Refresh tokens are 32 random bytes
 * (base64url); only their SHA-256 is stored.
 */

export type SignAccessToken = (user: { id: string; role: Role; token_version: number }) => string;

export interface TokenPair {
  access: string;
  refresh: string;
  token_type: 'Bearer';
  expires_in: number;
}

export const newRefreshToken = (): string => randomBytes(32).toString('base64url');
export const refreshTokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const invalidCredentials = () => failure({ type: 'invalid_credentials', detail: 'Wrong email or password' });

const refusalDetail: Record<Extract<RefreshDecision, { action: 'refuse' }>['reason'], string> = {
  unknown: 'This refresh token was not issued by this server',
  revoked: 'This refresh token belongs to a login that has ended; log in again',
  reused: 'This refresh token was already used; every token of this login is now revoked; log in again',
  expired: 'This refresh token has expired; log in again',
  inactive: 'This account is deactivated',
};

function tokenPair(ctx: AppContext, access: string, refresh: string): TokenPair {
  return { access, refresh, token_type: 'Bearer', expires_in: ctx.config.ACCESS_TOKEN_TTL_SECONDS };
}

/**
 * An unknown email, a wrong password and a deactivated account all answer the same 401 after the same
 * hashing work (an unknown email is checked against a dummy hash).
 */
export async function login(ctx: AppContext, sign: SignAccessToken, input: { email: string; password: string }): Promise<TokenPair> {
  const user = await findUserByEmail(ctx.db, input.email);
  const valid = user ? await verifyPassword(user.password_hash, input.password) : await verifyAgainstNobody(input.password);
  if (!user || !valid || !user.is_active) throw invalidCredentials();

  const now = ctx.now();
  const familyId = randomUUID();
  const tokenId = randomUUID();
  const refresh = newRefreshToken();
  const expiresAt = new Date(now.getTime() + ctx.config.REFRESH_TOKEN_TTL_SECONDS * 1000);
  const current = await inSerializableTx(ctx.db, async (trx) => {
    // A password change, role change or deactivation between the check above and now must not leave a
    // session opened with the old state.
    const fresh = await findUserById(trx, user.id);
    if (!fresh || !fresh.is_active || fresh.token_version !== user.token_version || fresh.password_hash !== user.password_hash) return null;
    await insertFamily(trx, { id: familyId, user_id: user.id, created_at: now });
    await insertRefreshToken(trx, { id: tokenId, family_id: familyId, token_hash: refreshTokenHash(refresh), expires_at: expiresAt, created_at: now });
    return fresh;
  });
  if (!current) throw invalidCredentials();

  if (needsRehash(current.password_hash)) await upgradePasswordHash(ctx, current.id, current.password_hash, input.password);
  return tokenPair(ctx, sign(current), refresh);
}

/** Rehashes with today's parameters; only if the hash is still the one just verified. Best effort. */
async function upgradePasswordHash(ctx: AppContext, userId: string, oldHash: string, password: string): Promise<void> {
  try {
    const upgraded = await hashPassword(password);
    await ctx.db.updateTable('users').set({ password_hash: upgraded }).where('id', '=', userId).where('password_hash', '=', oldHash).execute();
  } catch {
    // The login already succeeded; the next one tries again.
  }
}

/**
 * Spends the presented token and issues the next in its family, with an access token carrying the
 * user's current role and token version. Reuse revokes the family; that revocation commits, then the
 * caller gets 401.
 */
export async function refreshSession(ctx: AppContext, sign: SignAccessToken, token: string): Promise<TokenPair> {
  const tokenHash = refreshTokenHash(token);
  const now = ctx.now();
  const nextId = randomUUID();
  const next = newRefreshToken();
  const expiresAt = new Date(now.getTime() + ctx.config.REFRESH_TOKEN_TTL_SECONDS * 1000);

  const outcome = await inSerializableTx(ctx.db, async (trx) => {
    const row = await findRefreshToken(trx, tokenHash);
    const decision = decideRefresh(
      row && { expires_at: row.expires_at, spent_at: row.spent_at, family_revoked_at: row.family_revoked_at, user_is_active: row.is_active },
      now,
    );
    if (decision.action === 'refuse') {
      if (decision.revokeFamily && row) await revokeFamily(trx, row.family_id, now, decision.reason === 'reused' ? 'reuse' : 'sessions_revoked');
      return { refused: decision.reason } as const;
    }
    const spent = await spendRefreshToken(trx, row!.id, now);
    if (!spent) {
      await revokeFamily(trx, row!.family_id, now, 'reuse');
      return { refused: 'reused' } as const;
    }
    await insertRefreshToken(trx, { id: nextId, family_id: row!.family_id, token_hash: refreshTokenHash(next), expires_at: expiresAt, created_at: now });
    return { user: { id: row!.user_id, role: row!.role, token_version: row!.token_version } } as const;
  });

  if (outcome.refused !== undefined) throw failure({ type: 'invalid_refresh_token', detail: refusalDetail[outcome.refused] });
  return tokenPair(ctx, sign(outcome.user), next);
}

/**
 * Ends the login the token belongs to. Any token this server issued works, whatever its state (spent,
 * expired, already logged out), so a retried logout still answers 204; a token never issued is 401.
 */
export async function logout(ctx: AppContext, token: string): Promise<void> {
  const row = await findRefreshToken(ctx.db, refreshTokenHash(token));
  if (!row) throw failure({ type: 'invalid_refresh_token', detail: refusalDetail.unknown });
  await revokeFamily(ctx.db, row.family_id, ctx.now(), 'logout');
}

import { hash, parseOptions, verify } from '@node-rs/argon2';

/**
 * Password hashing: argon2id (the library's default algorithm; `Algorithm` is an ambient const enum that
 * breaks under verbatimModuleSyntax, so it is not named) with the OWASP minimum parameters, 19 MiB,
 * 2 passes, 1 lane, about 18 ms per verify on the 2-core development machine. Always the async API:
 * the work runs on libuv's thread pool, not on the event loop.
 */

export const PASSWORD_HASH_OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * Verified when a login names an email nobody has, so that answer costs the same hashing time as a wrong
 * password and timing does not reveal which emails are registered. Made with PASSWORD_HASH_OPTIONS from
 * a random password nobody knows; a test checks its parameters still match.
 */
export const DUMMY_PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$twLUa8fxly6koyXGvUUcZA$lxB+pyZ/F9rBMofj4eKyOgd5cIH+R0+qFgF0EXPV+W0';

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_HASH_OPTIONS);
}

/** False for a wrong password and for a stored value that is not a valid argon2 hash. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

/** Spends a verify's worth of time for a login that has no user to check against. */
export async function verifyAgainstNobody(password: string): Promise<false> {
  await verifyPassword(DUMMY_PASSWORD_HASH, password);
  return false;
}

/** Whether a stored hash was made with weaker or different parameters than today's, so a login rehashes it. */
export function needsRehash(storedHash: string): boolean {
  if (!storedHash.startsWith('$argon2id$')) return true;
  try {
    const o = parseOptions(storedHash);
    return o.memoryCost !== PASSWORD_HASH_OPTIONS.memoryCost || o.timeCost !== PASSWORD_HASH_OPTIONS.timeCost || o.parallelism !== PASSWORD_HASH_OPTIONS.parallelism;
  } catch {
    return true;
  }
}

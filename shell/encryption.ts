import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from './config.js';

/**
 * Field encryption at rest: AES-256-GCM under the current key (ENCRYPTION_KEY_ID), a fresh 12-byte
 * nonce per value, stored as "nonce.ciphertext.tag" (base64) with the key id beside it. Decryption
 * looks the key up by the stored id, so keys can rotate: old rows keep decrypting while the retired
 * key is listed in ENCRYPTION_PREVIOUS_KEYS, and every new write uses the current key.
 */

export interface Sealed {
  ciphertext: string;
  keyId: string;
}

type Keys = Pick<Config, 'ENCRYPTION_KEY_ID' | 'ENCRYPTION_KEYS'>;

export function seal(keys: Keys, plaintext: string): Sealed {
  const key = keys.ENCRYPTION_KEYS[keys.ENCRYPTION_KEY_ID];
  if (!key) throw new Error(`encryption key ${keys.ENCRYPTION_KEY_ID} is not configured`);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return { ciphertext: [nonce, body, tag].map((b) => b.toString('base64')).join('.'), keyId: keys.ENCRYPTION_KEY_ID };
}

export function unseal(keys: Keys, sealed: Sealed): string {
  const key = keys.ENCRYPTION_KEYS[sealed.keyId];
  if (!key) throw new Error(`encryption key ${sealed.keyId} is not configured (list it in ENCRYPTION_PREVIOUS_KEYS)`);
  const parts = sealed.ciphertext.split('.');
  if (parts.length !== 3) throw new Error('malformed ciphertext');
  const [nonce, body, tag] = parts.map((p) => Buffer.from(p, 'base64')) as [Buffer, Buffer, Buffer];
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

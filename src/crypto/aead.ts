import { createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import type { RandomSource } from '../crypto/random.js';
import { DecryptionFailedError } from './errors.js';

/** Ciphertext layout, version 1: [0x01][12-byte IV][ciphertext][16-byte GCM tag]. */
export const FORMAT_V1 = 0x01;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

export function encrypt(key: KeyObject, plaintext: Buffer, aad: Buffer, rng: RandomSource): Buffer {
  const iv = rng.bytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([Buffer.of(FORMAT_V1), iv, body, cipher.getAuthTag()]);
}

export function decrypt(key: KeyObject, sealed: Buffer, aad: Buffer): Buffer {
  // Lengths and version checked before any crypto runs.
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) throw new DecryptionFailedError();
  try {
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionFailedError();
  }
}

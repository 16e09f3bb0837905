import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. ~20–35 ms: only at POST /v1/auth/token. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface SecretHasher {
  hash(secret: string): Promise<string>;
  verify(hash: string, secret: string): Promise<boolean>;
}

export const argon2Hasher: SecretHasher = {
  hash: (secret) => argon2.hash(secret, ARGON2_OPTIONS),
  async verify(hash, secret) {
    try {
      return await argon2.verify(hash, secret);
    } catch {
      return false;
    }
  },
};

/** A client secret: 32 random bytes, prefixed so leaked secrets are easy to recognize in scans. */
export function newClientSecret(): string {
  return `tvs_${randomBytes(32).toString('base64url')}`;
}

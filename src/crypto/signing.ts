import { createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 public key as a JWK (RFC 8037), with the key id receipts carry. */
export type PublicJwk = {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
};

export interface Signer {
  sign(data: Buffer): string;
  publicJwk(): PublicJwk;
}

export function createSigner(seed: Buffer): Signer {
  if (seed.length !== 32) throw new Error('Ed25519 seed must be 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = `ed25519-${String(jwk.x).slice(0, 16)}`;
  return {
    sign: (data) => sign(null, data, privateKey).toString('base64url'),
    publicJwk: () => ({ kty: String(jwk.kty), crv: String(jwk.crv), x: String(jwk.x), kid, alg: 'EdDSA', use: 'sig' }),
  };
}

export function verifySignature(publicKey: KeyObject | JsonWebKey, data: Buffer, signature: string): boolean {
  const key =
    'type' in publicKey && typeof publicKey.type === 'string' && publicKey.type === 'public'
      ? (publicKey as KeyObject)
      : createPublicKey({ key: publicKey as JsonWebKey, format: 'jwk' });
  try {
    return verify(null, data, key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Canonical JSON: object keys sorted at every depth, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

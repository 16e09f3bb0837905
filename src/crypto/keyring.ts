import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { RandomSource } from '../crypto/random.js';
import { decrypt, encrypt } from './aead.js';
import { DecryptionFailedError } from './errors.js';

const DEK_BYTES = 32;
const SEP = '\u0000';

export class UnknownKeyVersionError extends Error {
  readonly code = 'UNKNOWN_KEY_VERSION';
  constructor(readonly version: number) {
    super(`master key version ${version} is not configured`);
    this.name = 'UnknownKeyVersionError';
  }
}

export interface Keyring {
  readonly activeKekVersion: number;
  readonly kekVersions: readonly number[];
  /** A fresh DEK, wrapped under the active KEK; the AAD binds it to its id and the KEK version. */
  newDek(dekId: string): { key: KeyObject; wrapped: Buffer; kekVersion: number };
  unwrapDek(dekId: string, kekVersion: number, wrapped: Buffer): KeyObject;
  rewrapDek(dekId: string, kekVersion: number, wrapped: Buffer): { wrapped: Buffer; kekVersion: number };
  /** Keyed fingerprint of a normalized value in its namespace and type. */
  fingerprint(namespace: string, type: string, normalized: string): Buffer;
  /** Keyed HMAC of a subject id: the only form in which a subject is ever stored. */
  subjectHmac(subject: string): Buffer;
  /** Keyed HMAC of caller input that is not a known token (it might be anything, PII included). */
  unknownTokenHmac(input: string): Buffer;
}

function dekAad(dekId: string, kekVersion: number): Buffer {
  return Buffer.from(`tokenvault:dek:v1${SEP}${JSON.stringify([dekId, kekVersion])}`);
}

/**
 * Holds the key material; raw bytes never leave this closure. The fingerprint key is split with
 * HKDF into separate value and subject keys, so a subject HMAC can never equal a value fingerprint.
 */
export function createKeyring(opts: { masterKeys: ReadonlyMap<number, Buffer>; fingerprintKey: Buffer; rng: RandomSource }): Keyring {
  const keks = new Map<number, KeyObject>();
  for (const [v, bytes] of opts.masterKeys) keks.set(v, createSecretKey(Buffer.from(bytes)));
  const versions = [...keks.keys()].sort((a, b) => a - b);
  const active = versions[versions.length - 1];
  if (active === undefined) throw new Error('at least one master key is required');
  const derive = (info: string) => createSecretKey(Buffer.from(hkdfSync('sha256', opts.fingerprintKey, Buffer.alloc(0), info, 32)));
  const valueKey = derive('tokenvault fingerprint v1');
  const subjectKey = derive('tokenvault subject v1');
  const unknownTokenKey = derive('tokenvault unknown token v1');

  const kek = (v: number): KeyObject => {
    const k = keks.get(v);
    if (!k) throw new UnknownKeyVersionError(v);
    return k;
  };
  const unwrapRaw = (dekId: string, v: number, wrapped: Buffer): Buffer => decrypt(kek(v), wrapped, dekAad(dekId, v));
  const wrapRaw = (dekId: string, raw: Buffer) => ({
    wrapped: encrypt(kek(active), raw, dekAad(dekId, active), opts.rng),
    kekVersion: active,
  });

  return {
    activeKekVersion: active,
    kekVersions: versions,
    newDek(dekId) {
      const raw = opts.rng.bytes(DEK_BYTES);
      const key = createSecretKey(raw);
      const out = { key, ...wrapRaw(dekId, raw) };
      raw.fill(0);
      return out;
    },
    unwrapDek(dekId, v, wrapped) {
      const raw = unwrapRaw(dekId, v, wrapped);
      if (raw.length !== DEK_BYTES) throw new DecryptionFailedError();
      const key = createSecretKey(raw);
      raw.fill(0);
      return key;
    },
    rewrapDek(dekId, v, wrapped) {
      const raw = unwrapRaw(dekId, v, wrapped);
      const out = wrapRaw(dekId, raw);
      raw.fill(0);
      return out;
    },
    fingerprint: (ns, type, normalized) => createHmac('sha256', valueKey).update(`${ns}${SEP}${type}${SEP}${normalized}`).digest(),
    subjectHmac: (subject) => createHmac('sha256', subjectKey).update(subject).digest(),
    unknownTokenHmac: (input) => createHmac('sha256', unknownTokenKey).update(input).digest(),
  };
}

/** AAD of a value ciphertext: binds it to namespace, type and token, so rows cannot be swapped. */
export function valueAad(namespace: string, type: string, token: string): Buffer {
  return Buffer.from(`tokenvault:value:v1${SEP}${JSON.stringify([namespace, type, token])}`);
}

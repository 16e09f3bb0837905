import { createSecretKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, IV_BYTES } from '../../src/crypto/aead.js';
import { DecryptionFailedError } from '../../src/crypto/errors.js';
import { createKeyring, UnknownKeyVersionError, valueAad } from '../../src/crypto/keyring.js';
import { canonicalContent } from '../../src/audit/records.js';
import { canonicalJson, createSigner, verifySignature } from '../../src/crypto/signing.js';
import { createPooledRandom } from '../../src/crypto/random.js';
import { runs } from './runs.js';

const rng = createPooledRandom();
const key = createSecretKey(randomBytes(32));

describe('AES-256-GCM', () => {
  it('round-trips any plaintext and AAD; the ciphertext carries version and a fresh IV', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 256 }), (p, a) => {
        const pt = Buffer.from(p);
        const aad = Buffer.from(a);
        const c1 = encrypt(key, pt, aad, rng);
        const c2 = encrypt(key, pt, aad, rng);
        expect(c1[0]).toBe(1);
        expect(c1.subarray(1, 1 + IV_BYTES).equals(c2.subarray(1, 1 + IV_BYTES))).toBe(false);
        expect(decrypt(key, c1, aad).equals(pt)).toBe(true);
      }),
      runs(1000),
    );
  });

  it('any flipped bit, other AAD, other key or truncation fails with one error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (p, pos, bit) => {
        const aad = Buffer.from('ns\0email\0tok');
        const c = encrypt(key, Buffer.from(p), aad, rng);
        const flipped = Buffer.from(c);
        flipped[pos % c.length]! ^= 1 << bit;
        for (const attempt of [
          () => decrypt(key, flipped, aad),
          () => decrypt(key, c, Buffer.from('ns\0email\0other')),
          () => decrypt(createSecretKey(randomBytes(32)), c, aad),
          () => decrypt(key, c.subarray(0, c.length - 1), aad),
        ]) {
          expect(attempt).toThrow(DecryptionFailedError);
        }
      }),
      runs(500),
    );
  });
});

describe('keyring', () => {
  const masterKeys = new Map([
    [1, randomBytes(32)],
    [2, randomBytes(32)],
  ]);
  const fingerprintKey = randomBytes(32);

  it('wraps new DEKs under the highest version and unwraps them only with the right id and version', () => {
    const k = createKeyring({ masterKeys, fingerprintKey, rng });
    expect(k.activeKekVersion).toBe(2);
    const { wrapped, kekVersion, key: dek } = k.newDek('dek-a');
    expect(kekVersion).toBe(2);
    const again = k.unwrapDek('dek-a', 2, wrapped);
    const c = encrypt(dek, Buffer.from('x'), Buffer.alloc(0), rng);
    expect(decrypt(again, c, Buffer.alloc(0)).toString()).toBe('x');
    expect(() => k.unwrapDek('dek-b', 2, wrapped)).toThrow(DecryptionFailedError);
    expect(() => k.unwrapDek('dek-a', 1, wrapped)).toThrow(DecryptionFailedError);
    expect(() => k.unwrapDek('dek-a', 9, wrapped)).toThrow(UnknownKeyVersionError);
    const other = createKeyring({ masterKeys: new Map([[2, randomBytes(32)]]), fingerprintKey, rng });
    expect(() => other.unwrapDek('dek-a', 2, wrapped)).toThrow(DecryptionFailedError);
  });

  it('rewrap moves a DEK to the active version without changing the key', () => {
    const old = createKeyring({ masterKeys: new Map([[1, masterKeys.get(1)!]]), fingerprintKey, rng });
    const { wrapped, key: dek } = old.newDek('d');
    const k = createKeyring({ masterKeys, fingerprintKey, rng });
    const moved = k.rewrapDek('d', 1, wrapped);
    expect(moved.kekVersion).toBe(2);
    const c = encrypt(dek, Buffer.from('same key'), Buffer.alloc(0), rng);
    expect(decrypt(k.unwrapDek('d', 2, moved.wrapped), c, Buffer.alloc(0)).toString()).toBe('same key');
  });

  it('fingerprints are keyed HMACs, separated by namespace and type, and differ from subject HMACs', () => {
    const a = createKeyring({ masterKeys, fingerprintKey, rng });
    const b = createKeyring({ masterKeys, fingerprintKey: randomBytes(32), rng });
    fc.assert(
      fc.property(fc.string(), (v) => {
        expect(a.fingerprint('default', 'text', v).equals(a.fingerprint('default', 'text', v))).toBe(true);
        expect(a.fingerprint('default', 'text', v).equals(b.fingerprint('default', 'text', v))).toBe(false);
        expect(a.fingerprint('default', 'text', v).equals(a.fingerprint('other', 'text', v))).toBe(false);
        expect(a.fingerprint('default', 'text', v).equals(a.fingerprint('default', 'alnum', v))).toBe(false);
        expect(a.subjectHmac(v).equals(a.fingerprint('default', 'text', v))).toBe(false);
      }),
      runs(500),
    );
  });

  it('value AAD binds namespace, type and token unambiguously', () => {
    expect(valueAad('a', 'b\0c', 'd').equals(valueAad('a', 'b', 'c\0d'))).toBe(false);
  });
});

describe('signing', () => {
  it('Ed25519 signatures over canonical JSON verify with the published JWK and fail when anything changes', () => {
    const s = createSigner(randomBytes(32));
    const jwk = s.publicJwk();
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const data = Buffer.from(canonicalJson({ a }));
        const sig = s.sign(data);
        expect(verifySignature(jwk, data, sig)).toBe(true);
        if (canonicalJson({ a }) !== canonicalJson({ a: b }))
          expect(verifySignature(jwk, Buffer.from(canonicalJson({ a: b })), sig)).toBe(false);
      }),
      runs(300),
    );
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":2,"f":1}]},"b":1}');
  });

  it('the audit row encoding written out key by key equals canonical JSON of the row', () => {
    const text = fc.option(fc.string({ unit: 'binary' }), { nil: null });
    const row = fc.record({
      id: fc.integer({ min: 1 }),
      ts: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }),
      requestId: text,
      actor: fc.string({ unit: 'binary' }),
      action: fc.string(),
      outcome: fc.string(),
      namespace: text,
      purpose: text,
      details: fc.dictionary(fc.string(), fc.jsonValue()),
      erasureId: fc.option(fc.uuid(), { nil: null }),
    });
    fc.assert(
      fc.property(row, ({ id: _id, ...r }) => canonicalContent(r) === canonicalJson({ v: 1, ...r, ts: r.ts.toISOString() })),
      runs(2000),
    );
  });
});

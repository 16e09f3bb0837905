import { createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, FORMAT_V1, IV_BYTES, TAG_BYTES } from '../../src/crypto/aead.js';
import { DecryptionFailedError } from '../../src/crypto/errors.js';
import { createKeyring, UnknownKeyVersionError, valueAad } from '../../src/crypto/keyring.js';
import { canonicalJson, createSigner, verifySignature } from '../../src/crypto/signing.js';
import { fixedRandom } from './fixed-random.js';
import vectors from './vectors/crypto.json' with { type: 'json' };

// Known answers from an independent implementation (vectors/crypto-vectors.py). Each pins part
// of what is stored: if one breaks, every row written before the change is unreadable or every
// token is inconsistent with yesterday's, so the change needs a versioned migration, not a new vector.
const hex = (h: string) => Buffer.from(h, 'hex');
const masterKeys = new Map(Object.entries(vectors.masterKeysHex).map(([v, k]) => [Number(v), hex(k)]));
const fingerprintKey = hex(vectors.fingerprintKeyHex);
const keyring = (rng = fixedRandom()) => createKeyring({ masterKeys, fingerprintKey, rng });

function failure(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('crypto known answers', () => {
  it('ciphertext layout constants are the stored ones', () => {
    expect([FORMAT_V1, IV_BYTES, TAG_BYTES]).toEqual([1, 12, 16]);
  });

  it.each(vectors.fingerprints.map((v, i) => [i, v] as const))('fingerprint vector %i', (_i, v) => {
    expect(keyring().fingerprint(v.namespace, v.type, v.normalized).toString('hex')).toBe(v.hex);
  });

  it.each(vectors.subjectHmacs.map((v, i) => [i, v] as const))('subject HMAC vector %i', (_i, v) => {
    expect(keyring().subjectHmac(v.subject).toString('hex')).toBe(v.hex);
  });

  it.each(vectors.unknownTokenHmacs.map((v, i) => [i, v] as const))('unknown-token HMAC vector %i', (_i, v) => {
    expect(keyring().unknownTokenHmac(v.input).toString('hex')).toBe(v.hex);
  });

  it('value AAD is the stored byte string', () => {
    const c = vectors.valueCiphertext;
    expect(valueAad(c.namespace, c.type, c.token).toString('hex')).toBe(c.aadHex);
  });

  it('a fixed wrapped DEK unwraps, and the DEK decrypts a fixed value ciphertext', () => {
    const w = vectors.wrappedDek;
    const c = vectors.valueCiphertext;
    const dek = keyring().unwrapDek(w.dekId, w.kekVersion, hex(w.wrappedHex));
    expect(dek.export().toString('hex')).toBe(w.dekHex);
    expect(decrypt(dek, hex(c.sealedHex), hex(c.aadHex)).toString('utf8')).toBe(c.plaintext);
  });

  it('encrypting with a fixed IV gives the fixed ciphertext byte for byte', () => {
    const c = vectors.valueCiphertext;
    const sealed = encrypt(
      createSecretKey(hex(vectors.wrappedDek.dekHex)),
      Buffer.from(c.plaintext),
      hex(c.aadHex),
      fixedRandom({ bytes: hex(c.ivHex) }),
    );
    expect(sealed.toString('hex')).toBe(c.sealedHex);
  });

  it('wrapping the fixed DEK under KEK version 1 gives the fixed wrapped bytes', () => {
    const w = vectors.wrappedDek;
    // A keyring holding only version 1, whose rng yields the DEK then the IV.
    const k = createKeyring({
      masterKeys: new Map([[1, masterKeys.get(1)!]]),
      fingerprintKey,
      rng: fixedRandom({ bytes: Buffer.concat([hex(w.dekHex), hex(w.ivHex)]) }),
    });
    const { wrapped, kekVersion, key } = k.newDek(w.dekId);
    expect(kekVersion).toBe(1);
    expect(key.export().toString('hex')).toBe(w.dekHex);
    expect(wrapped.toString('hex')).toBe(w.wrappedHex);
  });

  it('the version byte is checked: the fixed ciphertext with any other first byte fails', () => {
    const c = vectors.valueCiphertext;
    const dek = createSecretKey(hex(vectors.wrappedDek.dekHex));
    for (const version of [0x00, 0x02, 0xff]) {
      const sealed = hex(c.sealedHex);
      sealed[0] = version;
      const err = failure(() => decrypt(dek, sealed, hex(c.aadHex)));
      expect(err).toBeInstanceOf(DecryptionFailedError);
      expect((err as DecryptionFailedError).code).toBe('DECRYPTION_FAILED');
      expect((err as Error).message).toBe('decryption failed');
      expect((err as Error).name).toBe('DecryptionFailedError');
    }
  });

  it('the shortest ciphertext (empty plaintext) opens; one byte shorter fails before any crypto', () => {
    const dek = createSecretKey(hex(vectors.wrappedDek.dekHex));
    const empty = encrypt(dek, Buffer.alloc(0), Buffer.alloc(0), fixedRandom({ bytes: Buffer.from([7]) }));
    expect(empty.length).toBe(1 + 12 + 16);
    expect(decrypt(dek, empty, Buffer.alloc(0)).length).toBe(0);
    expect(failure(() => decrypt(dek, empty.subarray(0, 28), Buffer.alloc(0)))).toBeInstanceOf(DecryptionFailedError);
  });

  it('the fixed wrapped DEK does not unwrap under another id, version or key', () => {
    const w = vectors.wrappedDek;
    const k = keyring();
    expect(failure(() => k.unwrapDek('dek-0002', 1, hex(w.wrappedHex)))).toBeInstanceOf(DecryptionFailedError);
    expect(failure(() => k.unwrapDek(w.dekId, 2, hex(w.wrappedHex)))).toBeInstanceOf(DecryptionFailedError);
    const unknown = failure(() => k.unwrapDek(w.dekId, 3, hex(w.wrappedHex)));
    expect(unknown).toBeInstanceOf(UnknownKeyVersionError);
    expect(unknown).toMatchObject({
      code: 'UNKNOWN_KEY_VERSION',
      version: 3,
      message: 'master key version 3 is not configured',
      name: 'UnknownKeyVersionError',
    });
  });

  it('a wrapped key of the wrong length is refused even when it authenticates', () => {
    const k = createKeyring({ masterKeys, fingerprintKey, rng: fixedRandom() });
    // A 31-byte secret wrapped with the DEK AAD: authentic, but not a DEK.
    const aad = Buffer.from(`tokenvault:dek:v1\u0000${JSON.stringify(['short', 2])}`);
    const wrapped = encrypt(createSecretKey(masterKeys.get(2)!), Buffer.alloc(31, 1), aad, fixedRandom());
    expect(failure(() => k.unwrapDek('short', 2, wrapped))).toBeInstanceOf(DecryptionFailedError);
    const exact = encrypt(
      createSecretKey(masterKeys.get(2)!),
      Buffer.alloc(32, 1),
      Buffer.from(`tokenvault:dek:v1\u0000${JSON.stringify(['exact', 2])}`),
      fixedRandom(),
    );
    expect(k.unwrapDek('exact', 2, exact).export().toString('hex')).toBe('01'.repeat(32));
  });

  it('rewrapping the fixed DEK moves it to the active version and keeps the key', () => {
    const w = vectors.wrappedDek;
    const k = keyring(fixedRandom({ bytes: hex(w.ivHex) }));
    const moved = k.rewrapDek(w.dekId, 1, hex(w.wrappedHex));
    expect(moved.kekVersion).toBe(2);
    expect(k.unwrapDek(w.dekId, 2, moved.wrapped).export().toString('hex')).toBe(w.dekHex);
  });

  it('the Ed25519 signer gives the fixed public key and signature', () => {
    const s = vectors.signing;
    const signer = createSigner(hex(s.seedHex));
    expect(signer.publicJwk()).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: s.publicX,
      kid: `ed25519-${s.publicX.slice(0, 16)}`,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(signer.sign(Buffer.from(s.data))).toBe(s.signature);
    expect(verifySignature(signer.publicJwk(), Buffer.from(s.data), s.signature)).toBe(true);
  });
});

describe('keyring versions', () => {
  it('the active KEK is the highest version, not the last inserted nor the lexicographically last', () => {
    const k = createKeyring({
      masterKeys: new Map([
        [10, masterKeys.get(2)!],
        [9, masterKeys.get(1)!],
        [2, masterKeys.get(1)!],
      ]),
      fingerprintKey,
      rng: fixedRandom(),
    });
    expect(k.activeKekVersion).toBe(10);
    expect(k.kekVersions).toEqual([2, 9, 10]);
    expect(k.newDek('d').kekVersion).toBe(10);
  });

  it('refuses an empty key set', () => {
    expect(() => createKeyring({ masterKeys: new Map(), fingerprintKey, rng: fixedRandom() })).toThrow(
      'at least one master key is required',
    );
  });

  it('a new DEK is wiped from the source buffer after wrapping', () => {
    const raw = Buffer.alloc(32, 0xab);
    const rng = { int: () => 0, bytes: (n: number) => (n === 32 ? raw : Buffer.alloc(n)) };
    const { key } = createKeyring({ masterKeys, fingerprintKey, rng }).newDek('d');
    expect(key.export().toString('hex')).toBe('ab'.repeat(32));
    expect(raw.equals(Buffer.alloc(32))).toBe(true);
  });
});

describe('signing edges', () => {
  const s = vectors.signing;

  it('a seed of any other length than 32 bytes is refused', () => {
    for (const n of [0, 31, 33]) expect(() => createSigner(Buffer.alloc(n, 1))).toThrow('Ed25519 seed must be 32 bytes');
  });

  it('verifies with a public KeyObject as with the JWK, and a bad signature is false, never a throw', () => {
    const signer = createSigner(hex(s.seedHex));
    const keyObject = createPublicKey({ key: signer.publicJwk(), format: 'jwk' });
    expect(verifySignature(keyObject, Buffer.from(s.data), s.signature)).toBe(true);
    expect(verifySignature(keyObject, Buffer.from(`${s.data} `), s.signature)).toBe(false);
    expect(verifySignature(signer.publicJwk(), Buffer.from(s.data), 'not a signature')).toBe(false);
    expect(verifySignature(signer.publicJwk(), Buffer.from(s.data), '')).toBe(false);
    // A key that cannot sign at all (X25519): false too, not an exception.
    expect(verifySignature(generateKeyPairSync('x25519').publicKey, Buffer.from(s.data), s.signature)).toBe(false);
  });

  it('canonical JSON: undefined members dropped, arrays kept in order, strings escaped, scalars as JSON', () => {
    expect(canonicalJson({ b: undefined, a: [3, 1, { z: null, y: undefined }], 'é"': 'x\n' })).toBe('{"a":[3,1,{"z":null}],"é\\"":"x\\n"}');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson('s')).toBe('"s"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson({ B: 1, a: 2, _: 3 })).toBe('{"B":1,"_":3,"a":2}');
  });

  it('canonical JSON is the same whatever order the keys were inserted in', () => {
    const keys = ['b', 'a', 'C', '_', 'aa', '\u00e9'];
    const permutations = (xs: string[]): string[][] =>
      xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    for (const order of permutations(keys)) {
      expect(canonicalJson(Object.fromEntries(order.map((k) => [k, k])))).toBe(
        '{"C":"C","_":"_","a":"a","aa":"aa","b":"b","\u00e9":"\u00e9"}',
      );
    }
  });
});

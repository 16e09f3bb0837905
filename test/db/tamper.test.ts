import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/crypto/keyring.js';
import { createPooledRandom } from '../../src/crypto/random.js';
import { assertKekVersionsConfigured, KeyConfigError } from '../../src/vault/key-check.js';
import { bearer, startVault, testKeys, type TestVault, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();

async function tokenize(app: TestVault, values: string[]) {
  const res = await app.app.inject({
    method: 'POST',
    url: '/v1/tokenize',
    headers: bearer(app.token('tokenize')),
    payload: { items: values.map((value) => ({ type: 'text', value })) },
  });
  return res.json().results.map((r: { token: string }) => r.token) as string[];
}
async function reveal(app: TestVault, tokens: string[]) {
  return app.app.inject({
    method: 'POST',
    url: '/v1/detokenize',
    headers: bearer(app.token('detokenize:plain:*')),
    payload: { tokens, purpose: 'tamper-test' },
  });
}

describe('stored data cannot be tampered with silently', () => {
  it('a flipped ciphertext byte → 500 DECRYPTION_FAILED with no value in the body', async () => {
    const [t] = await tokenize(ctx.v, ['tamper-secret-one']);
    await ctx.v.handle.db.execute(
      sql`update mappings set ciphertext = set_byte(ciphertext, 20, get_byte(ciphertext, 20) # 1) where token = ${t}`,
    );
    const res = await reveal(ctx.v, [t!]);
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toEqual({ code: 'DECRYPTION_FAILED', message: 'a stored value could not be decrypted' });
    expect(res.body).not.toContain('tamper-secret');
  });

  it('ciphertexts swapped between two rows → DECRYPTION_FAILED (the AAD binds the token)', async () => {
    const [a, b] = await tokenize(ctx.v, ['swap-secret-a', 'swap-secret-b']);
    await ctx.v.handle.db.execute(sql`
      update mappings m set ciphertext = o.ciphertext
      from mappings o where (m.token, o.token) in ((${a}, ${b}), (${b}, ${a}))`);
    for (const t of [a!, b!]) {
      const res = await reveal(ctx.v, [t]);
      expect(res.statusCode).toBe(500);
      expect(res.json().error.code).toBe('DECRYPTION_FAILED');
      expect(res.body).not.toContain('swap-secret');
    }
  });

  it('a wrong master key → DECRYPTION_FAILED, never garbage', async () => {
    const [t] = await tokenize(ctx.v, ['kek-secret']);
    const keys = { ...ctx.v.keys, masterKeys: new Map([[1, randomBytes(32)]]) };
    const wrong = await startVault(ctx.db, { keys });
    const res = await reveal(wrong, [t!]);
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('DECRYPTION_FAILED');
    await wrong.close();
  });

  it('start is refused when a master key version that wraps data keys is missing', async () => {
    const keyring = createKeyring({
      masterKeys: new Map([[2, randomBytes(32)]]),
      fingerprintKey: testKeys().fingerprintKey,
      rng: createPooledRandom(),
    });
    await expect(assertKekVersionsConfigured(ctx.v.handle.db, keyring)).rejects.toThrow(KeyConfigError);
    await expect(assertKekVersionsConfigured(ctx.v.handle.db, keyring)).rejects.toThrow(
      /master key version 1 still wraps [1-9][0-9]* data key/,
    );
    await expect(assertKekVersionsConfigured(ctx.v.handle.db, ctx.v.services.keyring)).resolves.toBeUndefined();
  });
});

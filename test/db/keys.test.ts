import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyMaterial } from '../../src/config.js';
import { rows } from '../../src/db/client.js';
import { assertKekVersionsConfigured } from '../../src/vault/key-check.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, testKeys, type TestVault } from '../helpers/vault.js';

let db: TestDatabase;
let v1: TestVault;
let keysV1: KeyMaterial;

async function tokenize(v: TestVault, items: { type: string; value: string; subject?: string }[]) {
  const r = await v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(v.token('tokenize')), payload: { items } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().results.map((x: { token: string }) => x.token) as string[];
}
async function reveal(v: TestVault, tokens: string[]) {
  const r = await v.app.inject({
    method: 'POST',
    url: '/v1/detokenize',
    headers: bearer(v.token('detokenize:plain:*')),
    payload: { tokens, purpose: 'KEY-ROTATION' },
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().results.map((x: { value: string }) => x.value) as string[];
}
const dekVersions = async (v: TestVault) =>
  Object.fromEntries(
    (await rows<{ v: number; n: number }>(v.handle.db, sql`select kek_version as v, count(*)::int as n from data_keys group by 1`)).map(
      (r) => [r.v, r.n],
    ),
  );

/**
 * A database of its own (so other tests' keys do not interfere) holding `values` tokenized under
 * master key v1, and a second vault started with v1 and a new v2 — a rotation about to re-wrap.
 */
async function rotationScenario(values: string[]) {
  const own = await createTestDatabase();
  const base = testKeys();
  const before = await startVault(own, { keys: base });
  const tokens = await tokenize(
    before,
    values.map((value, i) => ({ type: 'text', value, subject: `${value}-subject-${i}` })),
  );
  const after = await startVault(own, {
    keys: {
      ...base,
      masterKeys: new Map([
        [1, base.masterKeys.get(1)!],
        [2, randomBytes(32)],
      ]),
    },
  });
  return {
    before,
    after,
    tokens,
    async close() {
      await before.close();
      await after.close();
      await own.drop();
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  keysV1 = testKeys();
  v1 = await startVault(db, { keys: keysV1 });
});
afterAll(async () => {
  await v1.close();
  await db.drop();
});

describe('key lifecycle', () => {
  it('rotating the KEK and re-wrapping under load changes no token and loses no value', async () => {
    const values = Array.from({ length: 40 }, (_, i) => ({
      type: 'email',
      value: `rotate${i}@example.com`,
      ...(i % 4 === 0 ? { subject: `rot-subject-${i}` } : {}),
    }));
    const before = await tokenize(v1, values);
    const fingerprints = await rows<{ token: string; fp: string }>(
      v1.handle.db,
      sql`select token, encode(fingerprint, 'hex') as fp from mappings order by token`,
    );
    expect(await dekVersions(v1)).toEqual({ 1: 11 });

    // "Restart" with version 2 added: new DEKs are wrapped under it at once.
    const keysV12: KeyMaterial = {
      ...keysV1,
      masterKeys: new Map([
        [1, keysV1.masterKeys.get(1)!],
        [2, randomBytes(32)],
      ]),
    };
    const v2 = await startVault(db, { keys: keysV12 });
    const load = (async () => {
      const errors: unknown[] = [];
      for (let round = 0; round < 15; round++) {
        try {
          const again = await tokenize(v2, [
            ...values.slice(round, round + 10),
            { type: 'text', value: `new-during-rewrap-${round}`, subject: `new-subject-${round}` },
          ]);
          expect(again.slice(0, 10)).toEqual(before.slice(round, round + 10));
          expect(await reveal(v2, before.slice(round, round + 10))).toEqual(values.slice(round, round + 10).map((x) => x.value));
        } catch (err) {
          errors.push(err);
        }
      }
      return errors;
    })();
    const result = await v2.services.keyManager.rewrap({ batchSize: 3 });
    expect(await load).toEqual([]);
    expect(result.remaining).toBe(0);
    const versions = await dekVersions(v2);
    expect(Object.keys(versions)).toEqual(['2']);

    expect(await reveal(v2, before)).toEqual(values.map((x) => x.value));
    expect(
      await rows<{ token: string; fp: string }>(
        v1.handle.db,
        sql`select token, encode(fingerprint, 'hex') as fp from mappings where token = any(${sql.param(before)}::text[]) order by token`,
      ),
    ).toEqual(fingerprints.filter((f) => before.includes(f.token)));

    // Version 1 wraps nothing now: it can be retired, and the vault runs without it.
    const status = await v2.services.keyManager.status();
    expect(status.versions.find((x) => x.version === 1)).toMatchObject({ dataKeys: 0, retireSafe: true });
    const keysV2: KeyMaterial = { ...keysV1, masterKeys: new Map([[2, keysV12.masterKeys.get(2)!]]) };
    const onlyV2 = await startVault(db, { keys: keysV2 });
    await expect(assertKekVersionsConfigured(onlyV2.handle.db, onlyV2.services.keyring)).resolves.toBeUndefined();
    expect(await reveal(onlyV2, before.slice(0, 5))).toEqual(values.slice(0, 5).map((x) => x.value));
    const audit = await rows<{ n: number }>(v2.handle.db, sql`select count(*)::int as n from audit_events where action = 'keys.rewrap'`);
    expect(audit[0]!.n).toBeGreaterThanOrEqual(4);
    await onlyV2.close();
    await v2.close();
  });

  it('a rewrap stopped midway resumes, and nothing is wrapped twice or lost', async () => {
    const values = Array.from({ length: 12 }, (_, i) => `resume-${i}`);
    const { after: b, tokens, close } = await rotationScenario(values);
    const total = Object.values(await dekVersions(b)).reduce((s, n) => s + n, 0);
    const first = await b.services.keyManager.rewrap({ batchSize: 4, maxBatches: 1 }); // stopped after one batch
    expect(first).toEqual({ rewrapped: 4, remaining: total - 4 });
    const rest = await b.services.keyManager.rewrap({ batchSize: 4 });
    expect(rest).toEqual({ rewrapped: total - 4, remaining: 0 });
    expect(Object.values(await dekVersions(b)).reduce((s, n) => s + n, 0)).toBe(total);
    expect(await reveal(b, tokens)).toEqual(values);
    await close();
  });

  it('a batch that fails midway rolls back whole', async () => {
    const { after: b, close } = await rotationScenario(['fail-1', 'fail-2', 'fail-3']);
    // Corrupt one wrapped key: unwrapping it fails inside the batch.
    await b.handle.db.execute(
      sql`update data_keys set wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1) where id = (select max(id::text)::uuid from data_keys)`,
    );
    await expect(b.services.keyManager.rewrap({ batchSize: 10 })).rejects.toThrow();
    // Three subject keys, none re-wrapped: the batch rolled back as a whole.
    expect(await dekVersions(b)).toEqual({ 1: 3 });
    await close();
  });

  it('rotating a namespace DEK sends new values to the new key; old values stay readable', async () => {
    const [old] = await tokenize(v1, [{ type: 'text', value: 'before-dek-rotation' }]);
    const newId = await v1.services.keyManager.rotateNamespaceDek('default');
    const [fresh] = await tokenize(v1, [{ type: 'text', value: 'after-dek-rotation' }]);
    const deks = await rows<{ token: string; dek_id: string }>(
      v1.handle.db,
      sql`select token, dek_id from mappings where token in (${old}, ${fresh})`,
    );
    expect(deks.find((d) => d.token === fresh)!.dek_id).toBe(newId);
    expect(deks.find((d) => d.token === old)!.dek_id).not.toBe(newId);
    expect(await reveal(v1, [old!, fresh!])).toEqual(['before-dek-rotation', 'after-dek-rotation']);
    const [row] = await rows<{ details: Record<string, unknown> }>(
      v1.handle.db,
      sql`select details from audit_events where action = 'keys.rotate_dek' order by id desc limit 1`,
    );
    expect(row!.details).toEqual({ dataKeyId: newId, kekVersion: 1 });
    expect(JSON.stringify(row)).not.toMatch(/[A-Za-z0-9+/]{43}=/);
  });
});

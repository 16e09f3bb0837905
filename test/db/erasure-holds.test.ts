import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decrypt } from '../../src/crypto/aead.js';
import { valueAad } from '../../src/crypto/keyring.js';
import { rows } from '../../src/db/client.js';
import { toBuffer } from '../../src/db/schema.js';
import { buildPolicy } from '../../src/vault/policy.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startInstances, startVault, type TestVault } from '../helpers/vault.js';

// The four ways erasure broke (issue "Erasure that holds"), each forced rather than hoped for.

let db: TestDatabase;
let a: TestVault;
let b: TestVault;

type Result = { token: string; created: boolean };
const tokenize = async (v: TestVault, items: unknown[]): Promise<Result[]> => {
  const r = await v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(v.token('tokenize')), payload: { items } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().results;
};
const erase = async (v: TestVault, body: object) => {
  const r = await v.app.inject({ method: 'POST', url: '/v1/erasures', headers: bearer(v.token('erase')), payload: body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json();
};
const reveal = async (v: TestVault, tokens: string[]) => {
  const r = await v.app.inject({
    method: 'POST',
    url: '/v1/detokenize',
    headers: bearer(v.token('detokenize:plain:*')),
    payload: { tokens, purpose: 'ERASURE-HOLDS' },
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().results as { status: string; value?: string }[];
};
const exportSubject = async (v: TestVault, subject: string) => {
  const r = await v.app.inject({
    method: 'POST',
    url: '/v1/subjects/export',
    headers: bearer(v.token('subjects:export detokenize:plain:*')),
    payload: { subject, purpose: 'ERASURE-HOLDS' },
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().tokens as { token: string; value?: string }[];
};
const feedTokens = async (v: TestVault) => {
  const r = await v.app.inject({ url: '/v1/erasures?after=0&limit=1000', headers: bearer(v.token('erasures:read')) });
  expect(r.statusCode, r.body).toBe(200);
  return (r.json().events as { tokens: { token: string }[] }[]).flatMap((e) => e.tokens.map((t) => t.token));
};

beforeAll(async () => {
  db = await createTestDatabase();
  [a, b] = (await startInstances(db, 2)) as [TestVault, TestVault];
});
afterAll(async () => {
  for (const v of [a, b]) await v.close();
  await db.drop();
});

describe('no resurrection of an erased token', () => {
  it('a cache hit on another instance never returns a token erased there, not even for an instant', async () => {
    const [first] = await tokenize(a, [{ type: 'email', value: 'cached-elsewhere@example.com' }]);
    const [hit] = await tokenize(a, [{ type: 'email', value: 'cached-elsewhere@example.com' }]);
    expect(hit).toEqual({ ...first, created: false });
    await erase(b, { type: 'email', value: 'cached-elsewhere@example.com' });
    // No wait for the other instance's watcher: the erasure has answered.
    const [again] = await tokenize(a, [{ type: 'email', value: 'cached-elsewhere@example.com' }]);
    expect(again!.token).not.toBe(first!.token);
    expect(again!.created).toBe(true);
  });

  it.runIf(usingPostgres)('a batch that read a mapping before its erasure neither returns nor caches the erased token', async () => {
    const [x] = await tokenize(a, [{ type: 'email', value: 'in-flight@example.com' }]);
    const [y] = await tokenize(a, [{ type: 'text', value: 'held-row', subject: 'holder-1' }]);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      // Hold the row the batch must link to: it reads both mappings, then waits on this lock.
      await locker.query('begin');
      await locker.query('select 1 from mappings where token = $1 for update', [y!.token]);
      const batch = tokenize(a, [
        { type: 'email', value: 'in-flight@example.com' },
        { type: 'text', value: 'held-row', subject: 'holder-2' },
      ]);
      await waitForLockWaiter(locker);
      const receipt = await erase(b, { type: 'email', value: 'in-flight@example.com' });
      expect(receipt.tokens.map((t: { token: string }) => t.token)).toEqual([x!.token]);
      await locker.query('commit');
      const [inFlight] = await batch;
      expect(inFlight!.token).not.toBe(x!.token);
      const [again] = await tokenize(a, [{ type: 'email', value: 'in-flight@example.com' }]);
      expect(again!.token).not.toBe(x!.token);
      expect(again!.token).toBe(inFlight!.token);
      expect(await reveal(a, [x!.token, again!.token])).toEqual([
        { token: x!.token, status: 'erased' },
        { token: again!.token, status: 'ok', type: 'email', value: 'in-flight@example.com', reveal: 'plain' },
      ]);
    } finally {
      await locker.end();
    }
  });
});

describe('crypto-shredding covers values that existed before the subject was attached', () => {
  it('a backup copy of a value first tokenized without a subject decrypts with no remaining key after the erasure', async () => {
    const [plain] = await tokenize(a, [{ type: 'email', value: 'pre-existing@example.com' }]);
    const [linked] = await tokenize(a, [{ type: 'email', value: 'pre-existing@example.com', subject: 'subject-b' }]);
    expect(linked).toEqual({ ...plain, created: false });
    // The "backup": every ciphertext held for the value, wherever it is stored.
    const backup = await ciphertextsOf(a, plain!.token);
    expect(backup.length).toBeGreaterThan(0);
    await erase(a, { subject: 'subject-b' });
    expect(await decryptableWithAnyRemainingKey(a, plain!.token, backup)).toEqual([]);
  });
});

describe('a backup taken before the erasure', () => {
  it("holds no copy of what was the subject's alone that any remaining key opens (only the backup's own key row would, until its master key is retired)", async () => {
    const [pre] = await tokenize(a, [{ type: 'email', value: 'backup-pre@example.com' }]);
    const [mine, shared] = await tokenize(b, [
      { type: 'email', value: 'backup-mine@example.com', subject: 'subject-backup' },
      { type: 'email', value: 'backup-shared@example.com', subject: 'subject-backup' },
      { type: 'email', value: 'backup-pre@example.com', subject: 'subject-backup' },
    ]);
    await tokenize(a, [{ type: 'email', value: 'backup-shared@example.com', subject: 'subject-other' }]);
    const hmac = a.services.keyring.subjectHmac('subject-backup');
    // The copy: every mapping, link and key row of the database at this point.
    const copy = {
      mappings: await rows<{ id: number; token: string; dek_id: string | null; ciphertext: Buffer | null }>(
        a.handle.db,
        sql`select id, token, dek_id, ciphertext from mappings`,
      ),
      links: await rows<{ mapping_id: number; subject_hmac: Buffer; dek_id: string | null; ciphertext: Buffer | null }>(
        a.handle.db,
        sql`select mapping_id, subject_hmac, dek_id, ciphertext from subject_links`,
      ),
      keys: await rows<{ id: string; kek_version: number; wrapped_key: Buffer; subject_hmac: Buffer | null }>(
        a.handle.db,
        sql`select id, kek_version, wrapped_key, subject_hmac from data_keys`,
      ),
    };
    const receipt = await erase(b, { subject: 'subject-backup' });
    expect(receipt).toMatchObject({ tokensErased: 2, counts: { erased: 2, retainedShared: 1, alreadyAbsent: 0 } });
    expect(receipt.tokens.map((t: { token: string }) => t.token).sort()).toEqual([mine!.token, pre!.token].sort());

    // Every ciphertext of the copy that belonged to the subject: its values alone (all copies), and
    // its own copy of the shared value.
    const tokenOf = new Map(copy.mappings.map((m) => [Number(m.id), m.token]));
    const aloneIds = copy.mappings.filter((m) => m.token === mine!.token || m.token === pre!.token).map((m) => Number(m.id));
    const subjects: { token: string; ct: Buffer }[] = [
      ...copy.mappings
        .filter((m) => aloneIds.includes(Number(m.id)) && m.ciphertext)
        .map((m) => ({ token: m.token, ct: toBuffer(m.ciphertext!) })),
      ...copy.links
        .filter((l) => l.ciphertext && (aloneIds.includes(Number(l.mapping_id)) || toBuffer(l.subject_hmac).equals(hmac)))
        .map((l) => ({ token: tokenOf.get(Number(l.mapping_id))!, ct: toBuffer(l.ciphertext!) })),
    ];
    expect(subjects.length).toBe(3);
    for (const { token, ct } of subjects) expect(await decryptableWithAnyRemainingKey(a, token, [ct])).toEqual([]);
    // The other subject's copy of the shared value is theirs, and still opens.
    expect((await exportSubject(a, 'subject-other')).map((t) => [t.token, t.value])).toEqual([
      [shared!.token, 'backup-shared@example.com'],
    ]);
    // What the caveat in the README is about: the backup's own copy of the subject's key row.
    const oldKey = copy.keys.find((k) => k.subject_hmac && toBuffer(k.subject_hmac).equals(hmac))!;
    const dek = a.services.keyring.unwrapDek(oldKey.id, Number(oldKey.kek_version), toBuffer(oldKey.wrapped_key));
    expect(decrypt(dek, subjects[0]!.ct, valueAad('default', 'email', subjects[0]!.token)).toString()).toMatch(
      /^backup-(pre|mine)@example\.com$/,
    );
  });
});

describe('a value shared by two subjects', () => {
  it('survives for the other subject when one is erased, and stays off the feed', async () => {
    const [c] = await tokenize(a, [{ type: 'ipv4', value: '203.0.113.77', subject: 'subject-c' }]);
    const [d] = await tokenize(a, [{ type: 'ipv4', value: '203.0.113.77', subject: 'subject-d' }]);
    expect(d!.token).toBe(c!.token);
    const receipt = await erase(a, { subject: 'subject-c', reference: 'DSR-SHARED-1' });
    expect(receipt).toMatchObject({ tokensErased: 0, tokens: [], counts: { erased: 0, retainedShared: 1, alreadyAbsent: 0 } });
    expect((await exportSubject(a, 'subject-d')).map((t) => [t.token, t.value])).toEqual([[c!.token, '203.0.113.77']]);
    expect(await exportSubject(a, 'subject-c')).toEqual([]);
    expect((await reveal(b, [c!.token]))[0]).toMatchObject({ status: 'ok', value: '203.0.113.77' });
    expect(await feedTokens(a)).not.toContain(c!.token);
  });

  it.runIf(usingPostgres)('a link written while the erasure runs keeps the value for its subject', async () => {
    const [m] = await tokenize(a, [{ type: 'text', value: 'linked-during', subject: 'subject-e' }]);
    const [other] = await tokenize(a, [{ type: 'text', value: 'namespace-held' }]);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      // Pause the batch after its links are written: moving `other` out of its namespace copy
      // needs this row, held FOR SHARE (the links' own row locks do not conflict with it).
      await locker.query('begin');
      await locker.query('select 1 from mappings where token = $1 for share', [other!.token]);
      const batch = tokenize(a, [
        { type: 'text', value: 'linked-during', subject: 'subject-f' },
        { type: 'text', value: 'namespace-held', subject: 'subject-f' },
      ]);
      await waitForLockWaiter(locker);
      const erasure = erase(b, { subject: 'subject-e' });
      await waitForLockWaiter(locker, 2);
      await locker.query('commit');
      const [results, receipt] = await Promise.all([batch, erasure]);
      expect(results.map((r) => r.token)).toEqual([m!.token, other!.token]);
      expect(receipt).toMatchObject({ tokensErased: 0, counts: { erased: 0, retainedShared: 1, alreadyAbsent: 0 } });
      expect((await exportSubject(a, 'subject-f')).map((t) => t.token).sort()).toEqual([m!.token, other!.token].sort());
      expect((await reveal(b, [m!.token]))[0]).toMatchObject({ status: 'ok', value: 'linked-during' });
    } finally {
      await locker.end();
    }
  });
});

describe('rows written before per-link copies', () => {
  it("a value whose one copy is under the erased subject's key stays readable for the subjects who still hold it", async () => {
    const [m] = await tokenize(a, [{ type: 'email', value: 'legacy@example.com', subject: 'legacy-s' }]);
    await tokenize(a, [{ type: 'email', value: 'legacy@example.com', subject: 'legacy-t' }]);
    // What migration 0006 found: the copy on the mapping, under the first subject's key; no link copies.
    const s = a.services.keyring.subjectHmac('legacy-s');
    await a.handle.db.execute(
      sql`update mappings m set dek_id = l.dek_id, ciphertext = l.ciphertext from subject_links l where l.mapping_id = m.id and m.token = ${m!.token} and l.subject_hmac = ${s}`,
    );
    await a.handle.db.execute(
      sql`update subject_links set dek_id = null, ciphertext = null where mapping_id = (select id from mappings where token = ${m!.token})`,
    );
    // A subject attached now gets its own copy; the legacy links keep reading the mapping's.
    await tokenize(b, [{ type: 'email', value: 'legacy@example.com', subject: 'legacy-u' }]);
    for (const subject of ['legacy-s', 'legacy-t', 'legacy-u'])
      expect((await exportSubject(a, subject)).map((t) => t.value)).toEqual(['legacy@example.com']);
    const receipt = await erase(b, { subject: 'legacy-s' });
    expect(receipt).toMatchObject({ tokensErased: 0, counts: { erased: 0, retainedShared: 1, alreadyAbsent: 0 } });
    for (const subject of ['legacy-t', 'legacy-u'])
      expect((await exportSubject(a, subject)).map((t) => t.value)).toEqual(['legacy@example.com']);
    expect((await reveal(a, [m!.token]))[0]).toMatchObject({ status: 'ok', value: 'legacy@example.com' });
    expect(await rows(a.handle.db, sql`select 1 from mappings where token = ${m!.token} and ciphertext is not null`)).toEqual([]);
  });
});

describe('nothing that survives an erasure re-links the subject', () => {
  it('no audit row, tombstone, receipt, feed or key row holds the subject HMAC or the value fingerprint afterwards', async () => {
    const subject = 'subject-returning';
    await tokenize(a, [{ type: 'email', value: 'returning@example.com', subject }]);
    await exportSubject(a, subject);
    await erase(a, { subject, reference: 'DSR-RELINK-1' });
    const hmac = a.services.keyring.subjectHmac(subject).toString('hex');
    const fp = a.services.keyring.fingerprint('default', 'email', 'returning@example.com').toString('hex');
    for (const table of ['audit_events', 'tombstones', 'erasures', 'data_keys', 'subject_links', 'mappings']) {
      const dump = JSON.stringify(await rows(a.handle.db, sql.raw(`select * from ${table}`)), (_k, v) =>
        v && typeof v === 'object' && (v.type === 'Buffer' || v instanceof Uint8Array) ? Buffer.from(v.data ?? v).toString('hex') : v,
      );
      expect(dump, table).not.toContain(hmac);
      expect(dump, table).not.toContain(fp);
    }
  });
});

describe('who may link values to subjects is namespace policy', () => {
  const POLICY = { namespaces: { default: {}, locked: { attachSubjects: 'none' }, listed: { attachSubjects: ['svc-linker'] } } };
  let c: TestVault;
  beforeAll(async () => {
    c = await startVault(db, { keys: a.keys, policy: POLICY });
  });
  afterAll(() => c.close());
  const call = (namespace: string, sub: string, subject?: string) =>
    c.app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(c.token('tokenize', ['*'], sub)),
      payload: { namespace, items: [{ type: 'text', value: `linkable-${namespace}`, ...(subject ? { subject } : {}) }] },
    });

  it('refuses a subject where the policy says none or does not list the principal, storing nothing', async () => {
    for (const [namespace, sub] of [
      ['locked', 'svc-linker'],
      ['listed', 'svc-other'],
    ] as const) {
      const res = await call(namespace, sub, 'victim-subject');
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toEqual({
        code: 'FORBIDDEN',
        message: `namespace ${namespace} does not let this principal link values to subjects (policy: attachSubjects); nothing was stored`,
      });
    }
    expect(
      await rows(
        c.handle.db,
        sql`select 1 from subject_links l join mappings m on m.id = l.mapping_id where m.namespace in ('locked', 'listed')`,
      ),
    ).toEqual([]);
    expect((await call('locked', 'svc-other')).statusCode).toBe(200);
    expect((await call('listed', 'svc-linker', 'victim-subject')).statusCode).toBe(200);
    expect((await call('default', 'svc-other', 'victim-subject')).statusCode).toBe(200);
  });

  it('rejects a malformed option at load', () => {
    expect(() => buildPolicy({ namespaces: { x: { attachSubjects: 'anyone' } } })).toThrow(
      'namespace x: attachSubjects must be "tokenize", "none" or a list of principal ids',
    );
  });
});

/** Polls (no timing assumption) until some session of the test database waits on a lock. */
async function waitForLockWaiter(c: pg.Client, atLeast = 1): Promise<void> {
  for (;;) {
    const r = await c.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
    if (r.rows[0].n >= atLeast) return;
    await new Promise((res) => setTimeout(res, 10));
  }
}

/** Every ciphertext row the database holds for a token: the mapping's, and any per-link copy. */
async function ciphertextsOf(v: TestVault, token: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const maps = await rows<Record<string, unknown>>(v.handle.db, sql`select * from mappings where token = ${token}`);
  for (const m of maps) {
    if (m.ciphertext) out.push(toBuffer(m.ciphertext as Buffer));
    const links = await rows<Record<string, unknown>>(v.handle.db, sql`select * from subject_links where mapping_id = ${m.id}`);
    for (const l of links) if (l.ciphertext) out.push(toBuffer(l.ciphertext as Buffer));
  }
  return out;
}

/** The ciphertexts of the copy that some data key still in the database opens. */
async function decryptableWithAnyRemainingKey(v: TestVault, token: string, copy: Buffer[]): Promise<string[]> {
  const keys = await rows<{ id: string; kek_version: number; wrapped_key: Buffer }>(
    v.handle.db,
    sql`select id, kek_version, wrapped_key from data_keys`,
  );
  const opened: string[] = [];
  for (const ct of copy) {
    for (const k of keys) {
      const dek = v.services.keyring.unwrapDek(k.id, Number(k.kek_version), toBuffer(k.wrapped_key));
      try {
        opened.push(decrypt(dek, ct, valueAad('default', 'email', token)).toString('utf8'));
      } catch {
        // This key does not open it: what the erasure must guarantee for every remaining key.
      }
    }
  }
  return opened;
}

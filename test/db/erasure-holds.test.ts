import pg from 'pg';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decrypt } from '../../src/crypto/aead.js';
import { valueAad } from '../../src/crypto/keyring.js';
import { rows } from '../../src/db/client.js';
import { toBuffer } from '../../src/db/schema.js';
import { buildPolicy } from '../../src/vault/policy.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, testKeys, type TestVault } from '../helpers/vault.js';

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
  const r = await v.app.inject({ method: 'POST', url: '/v1/detokenize', headers: bearer(v.token('detokenize:plain:*')), payload: { tokens, purpose: 'ERASURE-HOLDS' } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().results as { status: string; value?: string }[];
};
const exportSubject = async (v: TestVault, subject: string) => {
  const r = await v.app.inject({ method: 'POST', url: '/v1/subjects/export', headers: bearer(v.token('subjects:export detokenize:plain:*')), payload: { subject, purpose: 'ERASURE-HOLDS' } });
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
  const keys = testKeys();
  a = await startVault(db, { keys });
  b = await startVault(db, { keys });
});
afterAll(async () => {
  await a.close();
  await b.close();
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
      const batch = tokenize(a, [{ type: 'email', value: 'in-flight@example.com' }, { type: 'text', value: 'held-row', subject: 'holder-2' }]);
      await waitForLockWaiter(locker);
      const receipt = await erase(b, { type: 'email', value: 'in-flight@example.com' });
      expect(receipt.tokens.map((t: { token: string }) => t.token)).toEqual([x!.token]);
      await locker.query('commit');
      const [inFlight] = await batch;
      expect(inFlight!.token).not.toBe(x!.token);
      const [again] = await tokenize(a, [{ type: 'email', value: 'in-flight@example.com' }]);
      expect(again!.token).not.toBe(x!.token);
      expect(again!.token).toBe(inFlight!.token);
      expect(await reveal(a, [x!.token, again!.token])).toEqual([{ token: x!.token, status: 'erased' }, { token: again!.token, status: 'ok', type: 'email', value: 'in-flight@example.com', reveal: 'plain' }]);
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
      const dump = JSON.stringify(await rows(a.handle.db, sql.raw(`select * from ${table}`)), (_k, v) => (v && typeof v === 'object' && (v.type === 'Buffer' || v instanceof Uint8Array) ? Buffer.from(v.data ?? v).toString('hex') : v));
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
    c.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(c.token('tokenize', ['*'], sub)), payload: { namespace, items: [{ type: 'text', value: `linkable-${namespace}`, ...(subject ? { subject } : {}) }] } });

  it('refuses a subject where the policy says none or does not list the principal, storing nothing', async () => {
    for (const [namespace, sub] of [['locked', 'svc-linker'], ['listed', 'svc-other']] as const) {
      const res = await call(namespace, sub, 'victim-subject');
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toEqual({ code: 'FORBIDDEN', message: `namespace ${namespace} does not let this principal link values to subjects (policy: attachSubjects); nothing was stored` });
    }
    expect(await rows(c.handle.db, sql`select 1 from subject_links l join mappings m on m.id = l.mapping_id where m.namespace in ('locked', 'listed')`)).toEqual([]);
    expect((await call('locked', 'svc-other')).statusCode).toBe(200);
    expect((await call('listed', 'svc-linker', 'victim-subject')).statusCode).toBe(200);
    expect((await call('default', 'svc-other', 'victim-subject')).statusCode).toBe(200);
  });

  it('rejects a malformed option at load', () => {
    expect(() => buildPolicy({ namespaces: { x: { attachSubjects: 'anyone' } } })).toThrow('namespace x: attachSubjects must be "tokenize", "none" or a list of principal ids');
  });
});

/** Polls (no timing assumption) until some session of the test database waits on a lock. */
async function waitForLockWaiter(c: pg.Client): Promise<void> {
  for (;;) {
    const r = await c.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
    if (r.rows[0].n > 0) return;
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
  const keys = await rows<{ id: string; kek_version: number; wrapped_key: Buffer }>(v.handle.db, sql`select id, kek_version, wrapped_key from data_keys`);
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

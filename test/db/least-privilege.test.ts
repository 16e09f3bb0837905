import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startVault, type TestVault } from '../helpers/vault.js';

/** docs/least-privilege.sql for a role of this run's own (roles are shared by the whole server). */
const ROLE = `tv_app_${randomBytes(5).toString('hex')}`;
let db: TestDatabase;
let v: TestVault;
let dbName: string;

async function asOwner<T>(fn: (c: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  if (database) url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe.runIf(usingPostgres)('docs/least-privilege.sql (finding 10)', () => {
  beforeAll(async () => {
    db = await createTestDatabase({ backend: 'postgres' });
    dbName = new URL(db.url!).pathname.slice(1);
    const script = readFileSync(new URL('../../docs/least-privilege.sql', import.meta.url), 'utf8')
      .replaceAll('tokenvault_app', ROLE)
      .replace('current_database()', dbName);
    await asOwner((c) => c.query(script), dbName);
    const url = new URL(db.url!);
    url.username = ROLE;
    url.password = 'change-me';
    // The vault itself connects as the role; the test's own checks use the owner's handle.
    const asRole: TestDatabase = { ...db, open: (poolSize = 4) => openDatabase({ databaseUrl: url.toString(), poolSize }) };
    // This test is about grants, not sealing latency: a loaded CI machine must not make verify
    // report a row as left unsealed past the bound.
    v = await startVault(asRole, { auditSealBoundMs: 60_000 });
  });
  afterAll(async () => {
    await v?.close();
    await db?.drop();
    await asOwner((c) => c.query(`drop role if exists ${ROLE}`));
  });

  it('grants no UPDATE or DELETE on history, and no DDL', async () => {
    const privileges = await asOwner(
      async (c) =>
        (
          await c.query<{ t: string; p: string }>(
            `
      select t, p from unnest(array['audit_events', 'tombstones', 'erasures', 'subject_links', 'mappings', 'clients']) as t,
                       unnest(array['UPDATE', 'DELETE', 'TRUNCATE']) as p
      where has_table_privilege($1, 'public.' || t, p) order by 1, 2`,
            [ROLE],
          )
        ).rows,
      dbName,
    );
    // Column-level UPDATE on mappings and subject_links (their copies) is not table-level UPDATE.
    expect(privileges).toEqual([
      { t: 'clients', p: 'UPDATE' },
      { t: 'mappings', p: 'DELETE' },
      { t: 'subject_links', p: 'DELETE' },
    ]);
    const create = await asOwner(
      (c) => c.query<{ ok: boolean }>("select has_schema_privilege($1, 'public', 'CREATE') as ok", [ROLE]),
      dbName,
    );
    expect(create.rows[0]!.ok).toBe(false);
  });

  it('runs every flow of the vault as that role', async () => {
    const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, scope: string | null, payload?: object) =>
      v.app.inject({ method, url, headers: scope ? bearer(v.token(scope)) : {}, ...(payload ? { payload } : {}) });
    const expectOk = async (res: Promise<{ statusCode: number; body: string }>, status = 200) => {
      const r = await res;
      expect(r.statusCode, r.body).toBe(status);
      return JSON.parse(r.body);
    };
    expect((await inject('GET', '/readyz', null)).statusCode).toBe(200);
    const { client, secret } = await expectOk(
      inject('POST', '/v1/clients', 'admin', { name: 'least-privilege', scopes: ['tokenize'], namespaces: ['default'] }),
      201,
    );
    const grant = await expectOk(
      v.app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { grant_type: 'client_credentials', client_id: client.id, client_secret: secret },
      }),
    );
    const items = [
      { type: 'email', value: 'lp1@example.com', subject: 'lp-subject' },
      { type: 'email', value: 'lp2@example.com', subject: 'lp-subject' },
      { type: 'phone', value: '+14155550123' },
      { type: 'text', value: 'lp-text' },
    ];
    const tokens = (
      await expectOk(v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(grant.access_token), payload: { items } }))
    ).results.map((r: { token: string }) => r.token);
    await expectOk(inject('POST', '/v1/detokenize', 'detokenize:plain:*', { tokens, purpose: 'LEAST-PRIV' }));
    await expectOk(
      inject('POST', '/v1/subjects/export', 'subjects:export detokenize:plain:*', { subject: 'lp-subject', purpose: 'LEAST-PRIV' }),
    );
    const bySubject = await expectOk(inject('POST', '/v1/erasures', 'erase', { subject: 'lp-subject', reference: 'DSR-LP' }), 201);
    await expectOk(inject('POST', '/v1/erasures', 'erase', { type: 'phone', value: '+14155550123' }), 201);
    await expectOk(inject('POST', '/v1/erasures', 'erase', { tokens: [tokens[3]] }), 201);
    await expectOk(inject('GET', `/v1/erasures/${bySubject.erasureId}`, 'audit:read'));
    await expectOk(inject('GET', '/v1/erasures?after=0', 'erasures:read'));
    await expectOk(inject('GET', '/v1/audit?limit=5', 'audit:read'));
    const verified = await expectOk(inject('GET', '/v1/audit/verify', 'audit:read'));
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
    await expectOk(inject('POST', `/v1/clients/${client.id}/secret`, 'admin'));
    await expectOk(inject('DELETE', `/v1/clients/${client.id}`, 'admin'));
    await v.services.keyManager.rotateNamespaceDek('default');
    await v.services.keyManager.rewrap({ batchSize: 10 });
  });
});

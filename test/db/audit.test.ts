import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { appendAudit, queryAudit, verifyAudit, type AppendGuard, type AuditEvent } from '../../src/audit/audit-log.js';
import { chainHash } from '../../src/audit/chain.js';
import { pgErrorCode, rows, withConnection } from '../../src/db/client.js';
import { appendAsAnotherWriter } from '../helpers/audit.js';
import { usingPostgres } from '../helpers/db.js';
import { bearer, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();

async function fresh(): Promise<void> {
  // Each tamper case starts from a clean chain of 6 rows.
  await ctx.v.handle.db.execute(sql`alter table audit_events disable trigger user`);
  await ctx.v.handle.db.execute(sql`delete from audit_events`);
  await ctx.v.handle.db.execute(sql`alter table audit_events enable trigger user`);
  await ctx.v.handle.db.execute(sql`update audit_head set id = 0, hash = decode(repeat('00', 32), 'hex')`);
  await ctx.v.handle.db.transaction((tx) => appendAudit(tx, [1, 2, 3, 4, 5, 6].map((i) => ({ actor: `a${i}`, action: 'test', outcome: 'success', details: { i } }))));
}

async function asSuperuser(statement: ReturnType<typeof sql>): Promise<void> {
  await ctx.v.handle.db.execute(sql`alter table audit_events disable trigger user`);
  try {
    await ctx.v.handle.db.execute(statement);
  } finally {
    await ctx.v.handle.db.execute(sql`alter table audit_events enable trigger user`);
  }
}


describe('appended rows', () => {
  // Text the database can store: no NUL (PostgreSQL text) and no lone surrogate (UTF-8); the
  // routes refuse both before anything is audited.
  const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
  const event: fc.Arbitrary<AuditEvent> = fc.record({
    requestId: fc.option(text, { nil: null }),
    actor: text,
    action: text,
    outcome: text,
    namespace: fc.option(text, { nil: null }),
    purpose: fc.option(text, { nil: null }),
    details: fc.dictionary(text, fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }))),
    erasureId: fc.option(fc.uuid(), { nil: null }),
  });

  it('are stored as they were hashed, whatever their text, and the chain verifies', async () => {
    await fresh();
    let appended = 6;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 4 }), async (events) => {
        await ctx.v.handle.db.transaction((tx) => appendAudit(tx, events));
        const stored = await queryAudit(ctx.v.handle.db, { after: appended, limit: 10 });
        appended += events.length;
        expect(stored.map((r) => ({ requestId: r.requestId, actor: r.actor, action: r.action, outcome: r.outcome, namespace: r.namespace, purpose: r.purpose, details: r.details, erasureId: r.erasureId }))).toEqual(events);
      }),
      { numRuns: 40 },
    );
    expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: true, rowsChecked: appended });
  });
});

describe('the audit table is append-only', () => {
  it.each(['update audit_events set actor = \'x\'', 'delete from audit_events', 'truncate audit_events'])('%s is rejected by the database', async (stmt) => {
    await fresh();
    let err: unknown;
    try {
      await ctx.v.handle.db.execute(sql.raw(stmt));
    } catch (e) {
      err = e;
    }
    expect(pgErrorCode(err)).toBe('42501');
    expect((await verifyAudit(ctx.v.handle.db)).rowsChecked).toBe(6);
  });

  it.runIf(usingPostgres)('a role with only INSERT and SELECT (docs/least-privilege.sql) cannot even try', async () => {
    await ctx.v.handle.db.execute(sql`do $$ begin create role tv_audit_reader nologin; exception when duplicate_object then null; end $$`);
    await ctx.v.handle.db.execute(sql`grant select, insert on audit_events to tv_audit_reader`);
    await ctx.v.handle.db.transaction(async (tx) => {
      await tx.execute(sql`set local role tv_audit_reader`);
      await expect(tx.execute(sql`select count(*) from audit_events`)).resolves.toBeTruthy();
      await tx.execute(sql`savepoint s`);
      const err = await tx.execute(sql`update audit_events set actor = 'x'`).catch((e: unknown) => e);
      expect(pgErrorCode(err)).toBe('42501');
      await tx.execute(sql`rollback to savepoint s`);
    });
  });
});

describe('verify pinpoints tampering made with the triggers off', () => {
  it('an intact chain verifies with its row count and head', async () => {
    await fresh();
    const r = await verifyAudit(ctx.v.handle.db);
    expect(r).toMatchObject({ ok: true, rowsChecked: 6, head: { id: 6 } });
  });

  it('a modified row', async () => {
    await fresh();
    await asSuperuser(sql`update audit_events set details = '{"i": 99}' where id = 3`);
    expect(await verifyAudit(ctx.v.handle.db)).toEqual({ ok: false, rowsChecked: 2, brokenAt: 3, reason: 'row content does not match its hash' });
  });

  it('a deleted row', async () => {
    await fresh();
    await asSuperuser(sql`delete from audit_events where id = 4`);
    expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: false, brokenAt: 4, reason: 'row 4 is missing' });
  });

  it('a deleted tail is caught by the head row', async () => {
    await fresh();
    await asSuperuser(sql`delete from audit_events where id >= 5`);
    expect(await verifyAudit(ctx.v.handle.db)).toEqual({ ok: false, rowsChecked: 4, brokenAt: 5, reason: 'rows 5 to 6 are missing from the end of the chain' });
  });

  it('a deleted tail with the head moved back too is caught by an anchor kept outside the database', async () => {
    await fresh();
    const head = (await verifyAudit(ctx.v.handle.db)) as { head: { id: number; hash: string } };
    await asSuperuser(sql`delete from audit_events where id >= 5`);
    await ctx.v.handle.db.execute(sql`update audit_head set id = 4, hash = (select hash from audit_events where id = 4)`);
    expect((await verifyAudit(ctx.v.handle.db)).ok).toBe(true);
    expect(await verifyAudit(ctx.v.handle.db, head.head)).toMatchObject({ ok: false, brokenAt: 6, reason: 'the anchored row is no longer in the chain' });
  });

  it('a rewritten last row is caught by the head row', async () => {
    await fresh();
    await asSuperuser(sql`delete from audit_events where id = 6`);
    // A forger re-creates row 6 with a valid hash over other content: the head still holds the original.
    const [r5] = await rows<{ hash: Buffer }>(ctx.v.handle.db, sql`select hash from audit_events where id = 5`);
    const forged = { id: 6, ts: new Date(), requestId: null, actor: 'forger', action: 'test', outcome: 'success', namespace: null, purpose: null, details: {}, erasureId: null };
    const hash = chainHash(Buffer.from(r5!.hash), forged);
    await ctx.v.handle.db.execute(sql`insert into audit_events (id, ts, actor, action, outcome, details, prev_hash, hash)
      values (6, ${forged.ts.toISOString()}, 'forger', 'test', 'success', '{}', ${Buffer.from(r5!.hash)}, ${hash})`);
    expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: false, brokenAt: 6, reason: 'row does not match the recorded chain head' });
  });

  it('the head row cannot be removed', async () => {
    for (const stmt of ['delete from audit_head', 'truncate audit_head']) {
      expect(pgErrorCode(await ctx.v.handle.db.execute(sql.raw(stmt)).catch((e: unknown) => e)), stmt).toBe('42501');
    }
  });

  it('an append is refused on the pool (or PGlite outside a transaction): it must hold its connection before its turn', async () => {
    await expect(appendAudit(ctx.v.handle.db, [{ actor: 'g0', action: 'test', outcome: 'success' }])).rejects.toThrow(/not the pool/);
  });

  it('appends chain from the head another writer moved', async () => {
    await fresh();
    await appendAsAnotherWriter(ctx.v.handle.db);
    await ctx.v.handle.db.transaction((tx) => appendAudit(tx, [{ actor: 'y', action: 'test', outcome: 'success' }]));
    expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: true, rowsChecked: 8 });
  });

  describe.runIf(usingPostgres)('a guarded append, one statement outside a transaction', () => {
    // Once the head has moved, the guard writes a probe row, and lets the append through when $8 is true.
    const guard = (pass: boolean, n: number): AppendGuard => ({
      name: 'test_probe',
      ctes: 'probe as (insert into guard_probe (n) select $7::int where (select ok from moved) returning n), guard as (select $8::boolean as ok from probe)',
      params: [n, pass],
    });
    const probes = async () => (await rows<{ n: number }>(ctx.v.handle.db, sql`select n from guard_probe order by n`)).map((r) => r.n);
    const count = async () => (await rows<{ n: number }>(ctx.v.handle.db, sql`select count(*)::int as n from audit_events`))[0]!.n;

    it('keeps the guard\'s writes and the rows together, or neither', async () => {
      await fresh();
      await ctx.v.handle.db.execute(sql`create table if not exists guard_probe (n int)`);
      await ctx.v.handle.db.execute(sql`delete from guard_probe`);
      expect(await withConnection(ctx.v.handle.db, (ex) => appendAudit(ex, [{ actor: 'g1', action: 'test', outcome: 'success' }], guard(true, 1)))).toBe(true);
      expect(await probes()).toEqual([1]);
      expect(await count()).toBe(7);
      // Refused: the probe row the guard wrote is undone with the statement, and no row is appended.
      expect(await withConnection(ctx.v.handle.db, (ex) => appendAudit(ex, [{ actor: 'g2', action: 'test', outcome: 'success' }], guard(false, 2)))).toBe(false);
      expect(await probes()).toEqual([1]);
      expect(await count()).toBe(7);
      expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: true, rowsChecked: 7 });
    });

    it('holding this process\'s turn, never waits for a transaction that waits for the turn', async () => {
      await fresh();
      let proceed!: () => void;
      let committed!: Promise<unknown>;
      // A transaction is open (on PGlite it holds the one connection) and will append next.
      await new Promise<void>((opened) => {
        committed = ctx.v.handle.db.transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          opened();
          await new Promise<void>((r) => (proceed = r));
          await appendAudit(tx, [{ actor: 'in-transaction', action: 'test', outcome: 'success' }]);
        });
      });
      const alone = withConnection(ctx.v.handle.db, (ex) => appendAudit(ex, [{ actor: 'alone', action: 'test', outcome: 'success' }]));
      await new Promise((r) => setTimeout(r, 50));
      proceed();
      const outcome = await Promise.race([Promise.all([alone, committed]).then(() => 'both done'), new Promise((r) => setTimeout(() => r('stuck'), 5000))]);
      expect(outcome).toBe('both done');
      expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: true, rowsChecked: 8 });
    }, 20_000);


    it('when another writer moved the head, writes nothing from the stale one and chains from the new one', async () => {
      await fresh();
      await ctx.v.handle.db.execute(sql`create table if not exists guard_probe (n int)`);
      await ctx.v.handle.db.execute(sql`delete from guard_probe`);
      await appendAsAnotherWriter(ctx.v.handle.db);
      expect(await withConnection(ctx.v.handle.db, (ex) => appendAudit(ex, [{ actor: 'g3', action: 'test', outcome: 'success' }], guard(true, 3)))).toBe(true);
      // One probe row: the first try, from the stale head, wrote none.
      expect(await probes()).toEqual([3]);
      expect(await count()).toBe(8);
      expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: true, rowsChecked: 8 });
    });
  });

  it.runIf(usingPostgres)('an append queued behind an uncommitted one goes through when that commits, without re-reading the head', async () => {
    await fresh();
    // Counts the driver's head reads (the retry path) while the two transactions run.
    const sent: string[] = [];
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as { name?: string } | string;
      if (typeof config === 'object' && config.name) sent.push(config.name);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
    try {
      let releaseFirst!: () => void;
      const firstAppended = new Promise<void>((resolve) => {
        const first = ctx.v.handle.db.transaction(async (tx) => {
          await appendAudit(tx, [{ actor: 'first', action: 'test', outcome: 'success' }]);
          resolve();
          await new Promise<void>((r) => (releaseFirst = r));
        });
        void first;
      });
      await firstAppended;
      const second = ctx.v.handle.db.transaction((tx) => appendAudit(tx, [{ actor: 'second', action: 'test', outcome: 'success' }]));
      // The second waits at the head row (locked by the first, uncommitted) until the first commits.
      await new Promise((r) => setTimeout(r, 100));
      expect((await rows<{ n: number }>(ctx.v.handle.db, sql`select count(*)::int as n from audit_events`))[0]!.n).toBe(6);
      releaseFirst();
      await second;
    } finally {
      pg.Client.prototype.query = query;
    }
    expect(sent.filter((n) => n === 'tv_audit_lock_head')).toEqual([]);
    expect(sent.filter((n) => n === 'tv_audit_append')).toHaveLength(2);
    const actors = await rows<{ actor: string }>(ctx.v.handle.db, sql`select actor from audit_events where id > 6 order by id`);
    expect(actors.map((r) => r.actor)).toEqual(['first', 'second']);
    expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: true, rowsChecked: 8 });
  });

  it('a forged row inserted in the middle', async () => {
    await fresh();
    await asSuperuser(sql`update audit_events set id = id + 1000 where id >= 4`);
    await asSuperuser(sql`update audit_events set id = id - 999 where id >= 1000`);
    await asSuperuser(sql`insert into audit_events (id, ts, actor, action, outcome, details, prev_hash, hash)
      select 4, now(), 'forger', 'test', 'success', '{}', hash, hash from audit_events where id = 3`);
    const r = await verifyAudit(ctx.v.handle.db);
    expect(r).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it('two rows swapped', async () => {
    await fresh();
    await asSuperuser(sql`update audit_events set id = -2 where id = 2`);
    await asSuperuser(sql`update audit_events set id = 2 where id = 5`);
    await asSuperuser(sql`update audit_events set id = 5 where id = -2`);
    expect(await verifyAudit(ctx.v.handle.db)).toMatchObject({ ok: false, brokenAt: 2, reason: 'prev_hash does not match the previous row' });
  });
});

describe('audit over HTTP', () => {
  it('query filters, paginates with a cursor, and verify reports ok', async () => {
    await fresh();
    const reader = ctx.v.token('audit:read');
    const page1 = await ctx.v.app.inject({ url: '/v1/audit?action=test&limit=4', headers: bearer(reader) });
    expect(page1.statusCode, page1.body).toBe(200);
    expect(page1.json().events.map((e: { actor: string }) => e.actor)).toEqual(['a1', 'a2', 'a3', 'a4']);
    const page2 = await ctx.v.app.inject({ url: `/v1/audit?action=test&limit=4&cursor=${page1.json().nextCursor}`, headers: bearer(reader) });
    expect(page2.json().events.map((e: { actor: string }) => e.actor)).toEqual(['a5', 'a6']);
    expect(page2.json().nextCursor).toBeNull();
    const one = await ctx.v.app.inject({ url: '/v1/audit?actor=a3', headers: bearer(reader) });
    expect(one.json().events).toHaveLength(1);
    const verify = await ctx.v.app.inject({ url: '/v1/audit/verify', headers: bearer(reader) });
    expect(verify.json()).toMatchObject({ ok: true });
    const head = (await ctx.v.app.inject({ url: '/v1/audit/head', headers: bearer(reader) })).json().head;
    const anchored = await ctx.v.app.inject({ url: `/v1/audit/verify?anchorId=${head.id}&anchorHash=${head.hash}`, headers: bearer(reader) });
    expect(anchored.json()).toMatchObject({ ok: true });
    for (const bad of ['limit=1001', 'cursor=abc', 'from=yesterday', 'extra=1']) {
      const res = await ctx.v.app.inject({ url: `/v1/audit?${bad}`, headers: bearer(reader) });
      expect(res.statusCode, bad).toBe(400);
    }
    expect((await ctx.v.app.inject({ url: '/v1/audit', headers: bearer(ctx.v.token('tokenize')) })).statusCode).toBe(403);
  });

  it('a token filter finds the detokenize rows of one token', async () => {
    const [t] = (await ctx.v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(ctx.v.token('tokenize')), payload: { items: [{ type: 'email', value: 'filter@example.com' }] } })).json().results;
    await ctx.v.app.inject({ method: 'POST', url: '/v1/detokenize', headers: bearer(ctx.v.token('detokenize:masked:*')), payload: { tokens: [t.token], purpose: 'FILTER-1' } });
    const res = await ctx.v.app.inject({ url: `/v1/audit?token=${encodeURIComponent(t.token)}`, headers: bearer(ctx.v.token('audit:read')) });
    expect(res.json().events.map((e: { action: string; outcome: string; purpose: string }) => [e.action, e.outcome, e.purpose])).toEqual([['detokenize', 'ok', 'FILTER-1']]);
  });
});

describe('coverage of state-changing routes', () => {
  it('tokenize writes one row with counts per type, created vs existing, and never values', async () => {
    const before = await rows<{ id: number }>(ctx.v.handle.db, sql`select coalesce(max(id), 0)::int as id from audit_events`);
    await ctx.v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(ctx.v.token('tokenize')), payload: { items: [{ type: 'email', value: 'cov-canary@example.com' }, { type: 'email', value: 'cov-canary@example.com' }, { type: 'phone', value: '+14155550123' }] } });
    await ctx.v.app.inject({ method: 'POST', url: '/v1/tokenize', headers: bearer(ctx.v.token('tokenize')), payload: { items: [{ type: 'email', value: 'cov-canary@example.com' }] } });
    const added = await rows<{ action: string; namespace: string; details: unknown }>(ctx.v.handle.db, sql`select action, namespace, details from audit_events where id > ${before[0]!.id} order by id`);
    expect(added).toEqual([
      { action: 'tokenize', namespace: 'default', details: { counts: { email: { created: 1, existing: 0 }, phone: { created: 1, existing: 0 } } } },
      { action: 'tokenize', namespace: 'default', details: { counts: { email: { created: 0, existing: 1 } } } },
    ]);
    const dump = JSON.stringify(await rows(ctx.v.handle.db, sql`select * from audit_events`));
    expect(dump).not.toContain('cov-canary');
    expect(dump).not.toContain('4155550123');
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, queryAudit, type AuditEvent } from '../../src/audit/audit-log.js';
import { exportAuditLog, verifyExport, type ExportLine } from '../../src/audit/audit-reader.js';
import { checkpointBody, deriveMacKey, rowLeaf } from '../../src/audit/records.js';
import { runCli } from '../../src/cli.js';
import { createSigner } from '../../src/crypto/signing.js';
import { pgErrorCode, rows } from '../../src/db/client.js';
import { sealAndVerify } from '../helpers/audit.js';
import { usingPostgres } from '../helpers/db.js';
import { bearer, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();
const db = () => ctx.v.handle.db;
const log = () => createAuditLog({ macKey: deriveMacKey(ctx.v.keys.auditSigningKey) });
const verify = (now?: Date) => sealAndVerify(ctx.v, { now });

beforeAll(async () => {
  // The background loop would seal at moments of its own: these tests seal when they choose.
  await ctx.v.services.sealer.stop();
});

const TABLES = ['audit_events', 'audit_seals', 'audit_checkpoints'];

/** As a superuser with the append-only triggers off. */
async function asSuperuser(...statements: ReturnType<typeof sql>[]): Promise<void> {
  for (const t of TABLES) await db().execute(sql.raw(`alter table ${t} disable trigger user`));
  try {
    for (const s of statements) await db().execute(s);
  } finally {
    for (const t of TABLES) await db().execute(sql.raw(`alter table ${t} enable trigger user`));
  }
}

const events = (from: number, n: number): AuditEvent[] =>
  Array.from({ length: n }, (_, i) => ({ actor: `a${from + i}`, action: 'test', outcome: 'success', details: { i: from + i } }));

/** A log of 6 rows in two checkpoints (seqs 1–3 and 4–6); returns the event id at each seq. */
async function fresh(): Promise<number[]> {
  await asSuperuser(sql`delete from audit_checkpoints`, sql`delete from audit_seals`, sql`delete from audit_events`);
  await db().transaction((tx) => log().append(tx, events(1, 3)));
  await ctx.v.services.sealer.sealNow();
  await db().transaction((tx) => log().append(tx, events(4, 3)));
  await ctx.v.services.sealer.sealNow();
  const seals = await rows<{ seq: number; event_id: number }>(db(), sql`select seq, event_id from audit_seals order by seq`);
  expect(seals.map((s) => Number(s.seq))).toEqual([1, 2, 3, 4, 5, 6]);
  return [0, ...seals.map((s) => Number(s.event_id))];
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

  it("are stored as they were MAC'd, whatever their text: every seal says ok and the log verifies", async () => {
    const ids = await fresh();
    let last = ids[6]!;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 4 }), async (batch) => {
        await db().transaction((tx) => log().append(tx, batch));
        const stored = await queryAudit(db(), { after: last, limit: 10 });
        last = stored[stored.length - 1]!.id;
        expect(
          stored.map((r) => ({
            requestId: r.requestId,
            actor: r.actor,
            action: r.action,
            outcome: r.outcome,
            namespace: r.namespace,
            purpose: r.purpose,
            details: r.details,
            erasureId: r.erasureId,
          })),
        ).toEqual(batch);
      }),
      { numRuns: 40 },
    );
    const r = await verify();
    expect(r).toMatchObject({ ok: true, unsealed: 0 });
    const verdicts = await rows<{ verdict: string; n: number }>(db(), sql`select verdict, count(*)::int as n from audit_seals group by 1`);
    expect(verdicts).toEqual([{ verdict: 'ok', n: r.rowsChecked }]);
  });
});

describe('the audit tables are append-only', () => {
  it.each(
    TABLES.flatMap((t) => [
      `update ${t} set ${t === 'audit_events' ? 'actor' : t === 'audit_seals' ? 'verdict' : 'kid'} = 'x'`,
      `delete from ${t}`,
      `truncate ${t}`,
    ]),
  )('%s is rejected by the database', async (stmt) => {
    await fresh();
    expect(
      pgErrorCode(
        await db()
          .execute(sql.raw(stmt))
          .catch((e: unknown) => e),
      ),
    ).toBe('42501');
    expect(await verify()).toMatchObject({ ok: true, rowsChecked: 6 });
  });
});

describe('verify names the first bad position after tampering with the triggers off', () => {
  it('an intact log verifies with its rows, checkpoints and head', async () => {
    await fresh();
    expect(await verify()).toMatchObject({ ok: true, rowsChecked: 6, checkpoints: 2, head: { first: 4, last: 6 }, unsealed: 0 });
  });

  it('an edited row', async () => {
    const ids = await fresh();
    await asSuperuser(sql`update audit_events set details = '{"i": 99}' where id = ${ids[3]}`);
    expect(await verify()).toEqual({
      ok: false,
      rowsChecked: 2,
      checkpoints: 0,
      brokenAt: { seq: 3, eventId: ids[3] },
      reason: `the row at seq 3 (id ${ids[3]}) does not match its seal (edited, or moved)`,
    });
  });

  it('an edited row whose stored leaf was rewritten to match', async () => {
    const ids = await fresh();
    const [r] = await queryAudit(db(), { after: ids[5]! - 1, limit: 1 });
    const leaf = rowLeaf({ ...r!, details: { i: 99 } }, 5, 'ok');
    await asSuperuser(
      sql`update audit_events set details = '{"i": 99}' where id = ${ids[5]}`,
      sql`update audit_seals set leaf = ${leaf} where seq = 5`,
    );
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 4, eventId: null },
      reason: 'the rows of checkpoint 4–6 do not match its signed root',
    });
  });

  it('a deleted row', async () => {
    const ids = await fresh();
    await asSuperuser(sql`delete from audit_events where id = ${ids[4]}`);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 4, eventId: ids[4] },
      reason: `the row sealed at seq 4 (id ${ids[4]}) has been deleted`,
    });
  });

  it('a deleted row and its seal', async () => {
    const ids = await fresh();
    await asSuperuser(sql`delete from audit_seals where seq = 2`, sql`delete from audit_events where id = ${ids[2]}`);
    expect(await verify()).toMatchObject({ ok: false, brokenAt: { seq: 2, eventId: null }, reason: 'the row at seq 2 is missing' });
  });

  it('an inserted row (it can carry no valid MAC): sealed as forged', async () => {
    await fresh();
    await asSuperuser(
      sql`insert into audit_events (ts, actor, action, outcome, purpose, details, mac) values (now(), 'idp:bob', 'detokenize', 'ok', 'plain', '{}', ${randomBytes(48)})`,
    );
    const [forged] = await rows<{ id: number }>(db(), sql`select id from audit_events where actor = 'idp:bob'`);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 7, eventId: Number(forged!.id) },
      reason: `seq 7 (id ${forged!.id}): the row was not written by the vault (its MAC is missing or wrong)`,
    });
  });

  it('a replayed row (a copy of a genuine one, MAC and all): sealed as replayed', async () => {
    const ids = await fresh();
    await asSuperuser(
      sql`drop index audit_events_mac_uq`,
      sql`insert into audit_events (ts, request_id, actor, action, outcome, namespace, purpose, details, erasure_id, mac)
      select ts, request_id, actor, action, outcome, namespace, purpose, details, erasure_id, mac from audit_events where id = ${ids[2]}`,
    );
    try {
      expect(await verify()).toMatchObject({
        ok: false,
        brokenAt: { seq: 7 },
        reason: expect.stringContaining('the row is a copy of another row'),
      });
    } finally {
      await asSuperuser(
        sql`delete from audit_checkpoints where first_seq = 7`,
        sql`delete from audit_seals where seq = 7`,
        sql`delete from audit_events where id > ${ids[6]}`,
      );
      await db().execute(sql`create unique index audit_events_mac_uq on audit_events using btree (mac)`);
    }
  });

  it('two rows swapped', async () => {
    const ids = await fresh();
    await asSuperuser(
      sql`update audit_seals set event_id = -1 where seq = 2`,
      sql`update audit_seals set event_id = ${ids[2]} where seq = 5`,
      sql`update audit_seals set event_id = ${ids[5]} where seq = 2`,
    );
    expect(await verify()).toMatchObject({ ok: false, brokenAt: { seq: 2, eventId: ids[5] } });
  });

  it('a checkpoint signed by another key', async () => {
    const ids = await fresh();
    await asSuperuser(sql`delete from audit_checkpoints where first_seq = 4`);
    const [cp] = await rows<{ root: Buffer; prev: Buffer }>(db(), sql`select root, prev from audit_checkpoints where first_seq = 1`);
    void cp;
    const other = createSigner(randomBytes(32));
    const body = {
      first: 4,
      last: 6,
      root: '00'.repeat(32),
      prev: '00'.repeat(32),
      ts: new Date().toISOString(),
      kid: ctx.v.services.vault.auditPublicKey().kid,
    };
    await db().execute(
      sql`insert into audit_checkpoints (first_seq, last_seq, root, prev, ts, kid, signature, horizon) values (4, 6, ${Buffer.alloc(32)}, ${Buffer.alloc(32)}, ${body.ts}, ${body.kid}, ${other.sign(checkpointBody(body))}, '0')`,
    );
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 4, eventId: null },
      reason: expect.stringMatching(/checkpoint 4–6 does not chain|checkpoint 4–6 has no valid signature/),
    });
    void ids;
  });

  it('a replayed checkpoint (a genuine one, copied after the end)', async () => {
    await fresh();
    await asSuperuser(
      sql`alter table audit_checkpoints drop constraint audit_checkpoints_pkey`,
      sql`insert into audit_checkpoints select * from audit_checkpoints where first_seq = 1`,
    );
    try {
      expect(await verify()).toMatchObject({
        ok: false,
        brokenAt: { seq: 4, eventId: null },
        reason: 'checkpoint 1–3 does not continue the log at seq 4 (forged or replayed)',
      });
    } finally {
      await asSuperuser(sql`delete from audit_checkpoints`);
      await db().execute(sql`alter table audit_checkpoints add constraint audit_checkpoints_pkey primary key (first_seq)`);
    }
  });

  it('a truncated tail with its checkpoint is caught by an anchor kept outside the database', async () => {
    const ids = await fresh();
    const head = (await verify()) as { head: { last: number; root: string } };
    await asSuperuser(
      sql`delete from audit_checkpoints where first_seq = 4`,
      sql`delete from audit_seals where seq >= 4`,
      sql`delete from audit_events where id >= ${ids[4]}`,
    );
    expect((await verify()).ok).toBe(true);
    const reader = bearer(ctx.v.token('audit:read'));
    const res = await ctx.v.app.inject({
      url: `/v1/audit/verify?anchorLast=${head.head.last}&anchorRoot=${head.head.root}`,
      headers: reader,
    });
    expect(res.json()).toMatchObject({
      ok: false,
      brokenAt: { seq: 6, eventId: null },
      reason: 'the anchored checkpoint ending at seq 6 is no longer in the log',
    });
  });

  it('a row left unsealed past twice the bound, and a row slipped in below the horizon', async () => {
    const ids = await fresh();
    await db().transaction((tx) => log().append(tx, events(7, 1)));
    const [late] = await rows<{ id: number }>(db(), sql`select id from audit_events where id > ${ids[6]}`);
    const bound = ctx.v.services.sealer.boundMs;
    const r = await sealAndVerifyWithoutSealing(new Date(Date.now() + 2 * bound + 5000));
    expect(r).toMatchObject({
      ok: false,
      brokenAt: { seq: null, eventId: Number(late!.id) },
      reason: expect.stringContaining(`row ${late!.id} has been unsealed for`),
    });
    await ctx.v.services.sealer.sealNow();
    await asSuperuser(
      sql`insert into audit_events (ts, actor, action, outcome, details, xid) values (now(), 'below', 'test', 'ok', '{}', '1')`,
    );
    const [below] = await rows<{ id: number }>(db(), sql`select id from audit_events where actor = 'below'`);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: null, eventId: Number(below!.id) },
      reason: `row ${below!.id} is unsealed below the sealer's horizon (inserted around the sealer)`,
    });
  });
});

async function sealAndVerifyWithoutSealing(now: Date) {
  const { verifyAuditLog } = await import('../../src/audit/audit-reader.js');
  return verifyAuditLog(db(), { publicKey: ctx.v.services.vault.auditPublicKey(), boundMs: ctx.v.services.sealer.boundMs, now });
}

describe('the backlog', () => {
  it('shows in /metrics, and readyz says so once a committed row has waited ten bounds', async () => {
    await fresh();
    const ready = async () => {
      await new Promise((r) => setTimeout(r, 300)); // past the probe's cache
      const res = await ctx.v.app.inject({ url: '/readyz' });
      return { status: res.statusCode, audit: res.json().checks.audit as string };
    };
    expect(await ready()).toEqual({ status: 200, audit: 'ok' });
    await db().execute(
      sql`insert into audit_events (ts, actor, action, outcome, details) values (now() - interval '1 hour', 'stuck', 'test', 'ok', '{}')`,
    );
    expect(await ready()).toEqual({ status: 503, audit: 'behind: 1 rows unsealed, the oldest for 3600 s' });
    const metrics = (await ctx.v.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^tokenvault_audit_unsealed_rows 1$/m);
    expect(metrics).toMatch(/^tokenvault_audit_unsealed_oldest_seconds 360[0-9](\.[0-9]+)?$/m);
    await ctx.v.services.sealer.sealNow();
    expect(await ready()).toEqual({ status: 200, audit: 'ok' });
    expect((await ctx.v.app.inject({ url: '/metrics' })).body).toMatch(/^tokenvault_audit_unsealed_rows 0$/m);
  });
});

describe('offline: an export and the public key', () => {
  it('verifies, and names the first bad line once one is edited', async () => {
    await fresh();
    const lines: ExportLine[] = [];
    expect(await exportAuditLog(db(), 1000, (l) => lines.push(l))).toBe(6);
    const key = ctx.v.services.vault.auditPublicKey();
    expect(verifyExport(lines, key)).toMatchObject({ ok: true, rowsChecked: 6, checkpoints: 2 });
    const edited = lines.map((l) => (l.kind === 'row' && l.seq === 5 ? { ...l, row: { ...l.row!, actor: 'someone-else' } } : l));
    expect(verifyExport(edited, key)).toMatchObject({ ok: false, brokenAt: { seq: 5 } });
    const reordered = lines
      .map((l) => (l.kind === 'row' && (l.seq === 2 || l.seq === 3) ? { ...l, seq: 5 - l.seq } : l))
      .sort((a, b) => (a.kind === 'row' && b.kind === 'row' ? a.seq! - b.seq! : 0));
    expect(verifyExport(reordered, key)).toMatchObject({ ok: false, brokenAt: { seq: 2 } });
    expect(verifyExport(lines, createSigner(randomBytes(32)).publicJwk())).toMatchObject({
      ok: false,
      brokenAt: { seq: 1 },
      reason: 'checkpoint 1–3 has no valid signature by this key',
    });
  });
});

describe('audit over HTTP', () => {
  it("query filters, paginates with a cursor, shows each row's seq, and verify reports ok", async () => {
    await fresh();
    const reader = ctx.v.token('audit:read');
    const page1 = await ctx.v.app.inject({ url: '/v1/audit?action=test&limit=4', headers: bearer(reader) });
    expect(page1.statusCode, page1.body).toBe(200);
    expect(page1.json().events.map((e: { actor: string; seq: number }) => [e.actor, e.seq])).toEqual([
      ['a1', 1],
      ['a2', 2],
      ['a3', 3],
      ['a4', 4],
    ]);
    const page2 = await ctx.v.app.inject({
      url: `/v1/audit?action=test&limit=4&cursor=${page1.json().nextCursor}`,
      headers: bearer(reader),
    });
    expect(page2.json().events.map((e: { actor: string }) => e.actor)).toEqual(['a5', 'a6']);
    expect(page2.json().nextCursor).toBeNull();
    const verifyRes = await ctx.v.app.inject({ url: '/v1/audit/verify', headers: bearer(reader) });
    expect(verifyRes.json()).toMatchObject({ ok: true, rowsChecked: 6 });
    const head = (await ctx.v.app.inject({ url: '/v1/audit/head', headers: bearer(reader) })).json().checkpoint;
    const anchored = await ctx.v.app.inject({
      url: `/v1/audit/verify?anchorLast=${head.last}&anchorRoot=${head.root}`,
      headers: bearer(reader),
    });
    expect(anchored.json()).toMatchObject({ ok: true });
    for (const bad of ['limit=1001', 'cursor=abc', 'from=yesterday', 'extra=1']) {
      const res = await ctx.v.app.inject({ url: `/v1/audit?${bad}`, headers: bearer(reader) });
      expect(res.statusCode, bad).toBe(400);
    }
    expect((await ctx.v.app.inject({ url: '/v1/audit/verify?anchorLast=6', headers: bearer(reader) })).statusCode).toBe(400);
    expect((await ctx.v.app.inject({ url: '/v1/audit', headers: bearer(ctx.v.token('tokenize')) })).statusCode).toBe(403);
  });

  it('a token filter finds the detokenize rows of one token', async () => {
    const [t] = (
      await ctx.v.app.inject({
        method: 'POST',
        url: '/v1/tokenize',
        headers: bearer(ctx.v.token('tokenize')),
        payload: { items: [{ type: 'email', value: 'filter@example.com' }] },
      })
    ).json().results;
    await ctx.v.app.inject({
      method: 'POST',
      url: '/v1/detokenize',
      headers: bearer(ctx.v.token('detokenize:masked:*')),
      payload: { tokens: [t.token], purpose: 'FILTER-1' },
    });
    const res = await ctx.v.app.inject({
      url: `/v1/audit?token=${encodeURIComponent(t.token)}`,
      headers: bearer(ctx.v.token('audit:read')),
    });
    expect(res.json().events.map((e: { action: string; outcome: string; purpose: string }) => [e.action, e.outcome, e.purpose])).toEqual([
      ['detokenize', 'ok', 'FILTER-1'],
    ]);
  });
});

describe("the proof of an erasure's audit row", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tv-proof-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies offline with only the public key; once the row is tampered with, its proof fails', async () => {
    await fresh();
    const app = ctx.v.app;
    await app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(ctx.v.token('tokenize')),
      payload: { items: [{ type: 'email', value: 'proof-subject@example.com', subject: 'proof-subject' }] },
    });
    const erased = await app.inject({
      method: 'POST',
      url: '/v1/erasures',
      headers: bearer(ctx.v.token('erase')),
      payload: { subject: 'proof-subject', reference: 'DSR-PROOF' },
    });
    expect(erased.statusCode, erased.body).toBe(201);
    const [row] = await rows<{ id: number }>(db(), sql`select id from audit_events where erasure_id = ${erased.json().erasureId}`);
    const reader = bearer(ctx.v.token('audit:read'));
    expect((await app.inject({ url: `/v1/audit/${row!.id}/proof`, headers: reader })).statusCode).toBe(409);
    await ctx.v.services.sealer.sealNow();
    const proof = await app.inject({ url: `/v1/audit/${row!.id}/proof`, headers: reader });
    expect(proof.statusCode, proof.body).toBe(200);
    expect(proof.json().row).toMatchObject({ id: Number(row!.id), action: 'erasure', erasureId: erased.json().erasureId, verdict: 'ok' });
    const key = await app.inject({ url: '/v1/audit/public-key' });
    writeFileSync(join(dir, 'key.json'), key.body);
    writeFileSync(join(dir, 'proof.json'), proof.body);
    const offline = (file: string) => {
      const out: string[] = [];
      return runCli(['audit', 'verify-proof', join(dir, file), '--public-key', join(dir, 'key.json')], {}, (s) => out.push(s)).then(
        (code) => ({ code, out: out.join('\n') }),
      );
    };
    expect(await offline('proof.json')).toEqual({ code: 0, out: '{"ok":true}' });
    // A proof edited by hand (another erasure id) fails.
    writeFileSync(
      join(dir, 'edited.json'),
      JSON.stringify({ ...proof.json(), row: { ...proof.json().row, erasureId: '00000000-0000-4000-8000-000000000000' } }),
    );
    expect((await offline('edited.json')).code).toBe(1);
    // The row edited in the database: the proof served for it no longer reaches the signed root.
    await asSuperuser(sql`update audit_events set details = details || '{"tokensErased": 0}' where id = ${row!.id}`);
    writeFileSync(join(dir, 'tampered.json'), (await app.inject({ url: `/v1/audit/${row!.id}/proof`, headers: reader })).body);
    expect(await offline('tampered.json')).toEqual({
      code: 1,
      out: '{"ok":false,"reason":"the row is not the one the checkpoint signed (altered, or another row)"}',
    });
    expect((await app.inject({ url: '/v1/audit/999999999/proof', headers: reader })).statusCode).toBe(404);
    expect((await app.inject({ url: '/v1/audit/abc/proof', headers: reader })).statusCode).toBe(400);
  });
});

describe.runIf(usingPostgres)("as the vault's own least-privilege role (docs/least-privilege.sql)", () => {
  it('cannot edit, delete or reorder; what it inserts (a row, a seal, a checkpoint) makes verify fail at its position', async () => {
    const ids = await fresh();
    const { readFileSync } = await import('node:fs');
    const role = `tv_app_${randomBytes(4).toString('hex')}`;
    const grants = readFileSync('docs/least-privilege.sql', 'utf8')
      .replace(/--.*$/gm, '')
      .split(';')
      .map((s) => s.trim())
      .filter((s) => /^GRANT/i.test(s) && !/ON DATABASE/i.test(s));
    await db().execute(sql.raw(`create role ${role} nologin`));
    for (const g of grants) await db().execute(sql.raw(g.replace(/tokenvault_app/g, role)));
    const asApp = async (stmt: ReturnType<typeof sql>) =>
      db().transaction(async (tx) => {
        await tx.execute(sql.raw(`set local role ${role}`));
        await tx.execute(stmt);
      });
    for (const t of TABLES) {
      for (const stmt of [
        `update ${t} set ${t === 'audit_checkpoints' ? 'kid' : t === 'audit_seals' ? 'verdict' : 'actor'} = 'x'`,
        `delete from ${t}`,
        `truncate ${t}`,
      ]) {
        expect(pgErrorCode(await asApp(sql.raw(stmt)).catch((e: unknown) => e)), stmt).toBe('42501');
      }
    }
    // A checkpoint copied from a genuine one, moved to the next position: its signature fails.
    await asApp(sql`insert into audit_checkpoints (first_seq, last_seq, root, prev, ts, kid, signature, horizon)
      select 7, 7, root, prev, ts, kid, signature, horizon from audit_checkpoints where first_seq = 4`);
    await asApp(sql`insert into audit_seals (event_id, seq, leaf, verdict) values (${ids[1]! + 1000}, 7, ${randomBytes(32)}, 'ok')`);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 7, eventId: null },
      reason: 'checkpoint 7–7 does not chain to the previous checkpoint (forged or replayed)',
    });
    await asSuperuser(sql`delete from audit_checkpoints where first_seq = 7`, sql`delete from audit_seals where seq = 7`);
    await asApp(sql`insert into audit_seals (event_id, seq, leaf, verdict) values (${ids[1]! + 1000}, 7, ${randomBytes(32)}, 'ok')`);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 7, eventId: ids[1]! + 1000 },
      reason: 'seq 7 is sealed but in no signed checkpoint',
    });
    // The stray seal does not stall sealing: the next rows go past it, and verify still names it.
    await db().transaction((tx) => log().append(tx, events(7, 1)));
    expect(await ctx.v.services.sealer.sealNow()).toBe(1);
    expect(await rows<{ seq: number }>(db(), sql`select first_seq::int as seq from audit_checkpoints order by 1 desc limit 1`)).toEqual([
      { seq: 8 },
    ]);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: { seq: 7, eventId: ids[1]! + 1000 },
      reason: 'seq 7 is sealed but in no signed checkpoint',
    });
    await asSuperuser(sql`delete from audit_seals where seq = 7`);
    await db().execute(sql.raw(`drop owned by ${role}`));
    await db().execute(sql.raw(`drop role ${role}`));
  });
});

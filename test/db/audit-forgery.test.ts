import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { usingPostgres } from '../helpers/db.js';
import { bearer, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();

/**
 * Issue #23's finding: with only the grants of docs/least-privilege.sql, the vault's own database
 * role appended a forged "idp:bob detokenize plain" row that verify accepted (it could move the
 * chain head and compute the chain hash). Now the row cannot carry a valid MAC (its key never
 * reaches the database): the sealer seals it as forged, under a signature the role cannot make.
 */
describe.runIf(usingPostgres)("the vault's own least-privilege database role", () => {
  it('cannot append a forged row that verify accepts', async () => {
    const role = `tv_app_${randomBytes(4).toString('hex')}`;
    const grants = readFileSync('docs/least-privilege.sql', 'utf8')
      .replace(/--.*$/gm, '')
      .split(';')
      .map((s) => s.trim())
      .filter((s) => /^GRANT/i.test(s) && !/ON DATABASE/i.test(s));
    await ctx.v.handle.db.execute(sql.raw(`create role ${role} nologin`));
    for (const g of grants) await ctx.v.handle.db.execute(sql.raw(g.replace(/tokenvault_app/g, role)));
    await ctx.v.handle.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local role ${role}`));
      await tx.execute(sql`insert into audit_events (ts, actor, action, outcome, namespace, purpose, details, mac)
        values (now(), 'idp:bob', 'detokenize', 'ok', 'default', 'plain', ${JSON.stringify({ token: 'x', reveal: 'plain' })}::jsonb, ${randomBytes(48)})`);
    });
    await ctx.v.services.sealer.sealNow();
    const [forged] = await rows<{ id: number; seq: number }>(
      ctx.v.handle.db,
      sql`select e.id, s.seq from audit_events e join audit_seals s on s.event_id = e.id where e.actor = 'idp:bob'`,
    );
    const res = await ctx.v.app.inject({ url: '/v1/audit/verify', headers: bearer(ctx.v.token('audit:read')) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json(), res.body).toMatchObject({
      ok: false,
      brokenAt: { seq: Number(forged!.seq), eventId: Number(forged!.id) },
      reason: `seq ${forged!.seq} (id ${forged!.id}): the row was not written by the vault (its MAC is missing or wrong)`,
    });
    await ctx.v.handle.db.execute(sql.raw(`drop owned by ${role}`));
    await ctx.v.handle.db.execute(sql.raw(`drop role ${role}`));
  });
});

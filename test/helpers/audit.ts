import { availableParallelism, loadavg } from 'node:os';
import { verifyAuditLog } from '../../src/audit/audit-reader.js';
import type { VerifyResult } from '../../src/audit/verify.js';
import type { TestVault } from './vault.js';

/** Seals what has committed (this vault must be the sealer), then verifies the whole log. */
export async function sealAndVerify(v: TestVault, opts: { now?: Date } = {}): Promise<VerifyResult> {
  await v.services.sealer.sealNow();
  return verifyAuditLog(v.handle.db, { publicKey: v.services.vault.auditPublicKey(), boundMs: v.services.sealer.boundMs, now: opts.now });
}

type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>;

/**
 * Waits (generously: this is not a timing assertion) until every committed audit row is sealed,
 * then checks the log: each row sealed exactly once, seqs 1..n in one order, and, from the
 * recorded times, each row's checkpoint signed within `boundMs` of the row's own time (taken
 * just before its commit, so this overstates the real latency, never understates it).
 */
export async function expectAllSealed(
  query: Query,
  boundMs: number,
  opts: { since?: number } = {},
): Promise<{ rows: number; slowestMs: number }> {
  const end = Date.now() + 60_000;
  for (;;) {
    const [u] = await query<{ n: number }>(
      'select count(*)::int as n from audit_events e where not exists (select 1 from audit_seals s where s.event_id = e.id)',
    );
    if (u!.n === 0) break;
    if (Date.now() > end) throw new Error(`${u!.n} audit rows still unsealed after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const [c] = await query<{ events: number; seals: number; distinct_events: number; max_seq: number; covered: number }>(`
    select (select count(*)::int from audit_events) as events, (select count(*)::int from audit_seals) as seals,
           (select count(distinct event_id)::int from audit_seals) as distinct_events, (select coalesce(max(seq), 0)::int from audit_seals) as max_seq,
           (select coalesce(max(last_seq), 0)::int from audit_checkpoints) as covered`);
  if (c!.seals !== c!.events || c!.distinct_events !== c!.events || c!.max_seq !== c!.events || c!.covered !== c!.events)
    throw new Error(`log not sealed exactly once in one order: ${JSON.stringify(c)}`);
  const [slow] = await query<{ ms: number | null; late: number }>(
    `
    select max(extract(epoch from (k.ts - e.ts)) * 1000)::float as ms, count(*) filter (where k.ts - e.ts > $1 * interval '1 millisecond')::int as late
    from audit_seals s join audit_events e on e.id = s.event_id join audit_checkpoints k on s.seq between k.first_seq and k.last_seq
    where e.id > $2`,
    [boundMs, opts.since ?? 0],
  );
  if (slow!.late > 0) {
    const message = `${slow!.late} rows sealed later than ${boundMs} ms after their time (slowest ${Math.round(slow!.ms ?? 0)} ms)`;
    // The bound is a property of the vault on a machine it has to itself. On a machine running
    // far more than its cores (this suite shares one), the figure is reported, not judged.
    const [load] = loadavg();
    if (load! <= 2 * availableParallelism()) throw new Error(message);
    console.warn(`${message}; not judged: load average ${load!.toFixed(1)} on ${availableParallelism()} cores`);
  }
  return { rows: c!.events, slowestMs: slow!.ms ?? 0 };
}

import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { hotQuery, rows, type Executor } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import { canonicalContent, MAC_BYTES, NONCE_BYTES, rowMac, type AuditEvent, type AuditRow, type Checkpoint } from './records.js';

export type { AuditEvent } from './records.js';

/**
 * Inserts the rows ($1: a JSON array of their canonical forms, the very text each MAC covers) and
 * their MACs ($2: 48 bytes each, in order). Nothing is locked but the new rows: the order is the
 * sealer's to give, after commit.
 */
const APPEND_SQL = `
  insert into audit_events (ts, request_id, actor, action, outcome, namespace, purpose, details, erasure_id, mac)
  select (r->>'ts')::timestamptz, r->>'requestId', r->>'actor', r->>'action', r->>'outcome',
         r->>'namespace', r->>'purpose', r->'details', (r->>'erasureId')::uuid,
         substring($2::bytea from (n::int - 1) * ${MAC_BYTES} + 1 for ${MAC_BYTES})
  from jsonb_array_elements($1::jsonb) with ordinality as u(r, n)`;

/** The audit trail's write side: rows MAC'd with a key the database never sees. */
export function createAuditLog(deps: { macKey: Buffer }) {
  return {
    /**
     * Appends events inside the caller's transaction, so they commit with the change they record,
     * or not at all (on its own, one statement commits them alone). Takes no lock: concurrent
     * requests and instances never wait for one another here.
     */
    async append(ex: Executor, events: AuditEvent[]): Promise<void> {
      if (events.length === 0) return;
      const ts = new Date();
      const nonces = randomBytes(NONCE_BYTES * events.length);
      const texts: string[] = [];
      const macs: Buffer[] = [];
      events.forEach((e, i) => {
        const text = canonicalContent({
          ts,
          requestId: e.requestId ?? null,
          actor: e.actor,
          action: e.action,
          outcome: e.outcome,
          namespace: e.namespace ?? null,
          purpose: e.purpose ?? null,
          details: e.details ?? {},
          erasureId: e.erasureId ?? null,
        });
        texts.push(text);
        macs.push(rowMac(deps.macKey, nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES), text));
      });
      await hotQuery(ex, 'tv_audit_append', APPEND_SQL, [`[${texts.join(',')}]`, Buffer.concat(macs)]);
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

export interface RawRow {
  id: number;
  ts: Date | string;
  request_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  namespace: string | null;
  purpose: string | null;
  details: Record<string, unknown> | string;
  erasure_id: string | null;
}

const ROW_COLUMNS = sql.raw('e.id, e.ts, e.request_id, e.actor, e.action, e.outcome, e.namespace, e.purpose, e.details, e.erasure_id');

export function fromRaw(r: RawRow): AuditRow {
  return {
    id: Number(r.id),
    ts: r.ts instanceof Date ? r.ts : new Date(r.ts),
    requestId: r.request_id,
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
    namespace: r.namespace,
    purpose: r.purpose,
    details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
    erasureId: r.erasure_id,
  };
}

export interface AuditQuery {
  actor?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  namespace?: string | undefined;
  token?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  after?: number | undefined;
  limit: number;
}

/** Rows by id, filtered, each with its seq once sealed (null before). */
export async function queryAudit(ex: Executor, q: AuditQuery): Promise<(AuditRow & { seq: number | null })[]> {
  const conds = [sql`e.id > ${q.after ?? 0}`];
  if (q.actor) conds.push(sql`e.actor = ${q.actor}`);
  if (q.action) conds.push(sql`e.action = ${q.action}`);
  if (q.outcome) conds.push(sql`e.outcome = ${q.outcome}`);
  if (q.namespace) conds.push(sql`e.namespace = ${q.namespace}`);
  if (q.token) conds.push(sql`(e.details->>'token' = ${q.token} or e.details->'tokens' ? ${q.token})`);
  if (q.from) conds.push(sql`e.ts >= ${q.from.toISOString()}`);
  if (q.to) conds.push(sql`e.ts < ${q.to.toISOString()}`);
  const found = await rows<RawRow & { seq: number | null }>(
    ex,
    sql`select ${ROW_COLUMNS}, s.seq from audit_events e left join audit_seals s on s.event_id = e.id
    where ${sql.join(conds, sql` and `)} order by e.id limit ${q.limit}`,
  );
  return found.map((r) => ({ ...fromRaw(r), seq: r.seq === null ? null : Number(r.seq) }));
}

interface RawCheckpoint {
  first_seq: number;
  last_seq: number;
  root: Buffer | Uint8Array;
  prev: Buffer | Uint8Array;
  ts: Date | string;
  kid: string;
  signature: string;
}

function checkpointFromRaw(r: RawCheckpoint): Checkpoint {
  return {
    first: Number(r.first_seq),
    last: Number(r.last_seq),
    root: toBuffer(r.root).toString('hex'),
    prev: toBuffer(r.prev).toString('hex'),
    ts: (r.ts instanceof Date ? r.ts : new Date(r.ts)).toISOString(),
    kid: r.kid,
    signature: r.signature,
  };
}

const CHECKPOINT_COLUMNS = sql.raw('first_seq, last_seq, root, prev, ts, kid, signature');

export async function listCheckpoints(ex: Executor): Promise<Checkpoint[]> {
  return (await rows<RawCheckpoint>(ex, sql`select ${CHECKPOINT_COLUMNS} from audit_checkpoints order by first_seq`)).map(
    checkpointFromRaw,
  );
}

export async function latestCheckpoint(ex: Executor): Promise<Checkpoint | null> {
  const [r] = await rows<RawCheckpoint>(ex, sql`select ${CHECKPOINT_COLUMNS} from audit_checkpoints order by first_seq desc limit 1`);
  return r ? checkpointFromRaw(r) : null;
}

/** The checkpoint whose range holds seq. */
export async function checkpointOf(ex: Executor, seq: number): Promise<Checkpoint | null> {
  const [r] = await rows<RawCheckpoint>(
    ex,
    sql`select ${CHECKPOINT_COLUMNS} from audit_checkpoints where first_seq <= ${seq} order by first_seq desc limit 1`,
  );
  return r && Number(r.last_seq) >= seq ? checkpointFromRaw(r) : null;
}

/** A sealed position: its seal, and the row it names (null when that row is gone). */
export interface SealedEntry {
  seq: number;
  eventId: number;
  leaf: Buffer;
  verdict: string;
  row: AuditRow | null;
}

/** Seals with seq in (after, upTo], in seq order, at most limit. */
export async function sealedPage(ex: Executor, after: number, upTo: number, limit: number): Promise<SealedEntry[]> {
  const found = await rows<
    Omit<RawRow, 'id'> & { id: number | null; seq: number; event_id: number; leaf: Buffer | Uint8Array; verdict: string }
  >(
    ex,
    sql`
    select s.seq, s.event_id, s.leaf, s.verdict, ${ROW_COLUMNS} from audit_seals s left join audit_events e on e.id = s.event_id
    where s.seq > ${after} and s.seq <= ${upTo} order by s.seq limit ${limit}`,
  );
  return found.map((r) => ({
    seq: Number(r.seq),
    eventId: Number(r.event_id),
    leaf: toBuffer(r.leaf),
    verdict: r.verdict,
    row: r.id === null ? null : fromRaw(r as RawRow),
  }));
}

/** The stored leaves of seqs first..last, in order. */
export async function leavesOf(ex: Executor, first: number, last: number): Promise<Buffer[]> {
  return (
    await rows<{ leaf: Buffer | Uint8Array }>(ex, sql`select leaf from audit_seals where seq between ${first} and ${last} order by seq`)
  ).map((r) => toBuffer(r.leaf));
}

/** One row and its seal, if any. */
export async function auditRow(ex: Executor, id: number): Promise<{ row: AuditRow; seq: number | null; verdict: string | null } | null> {
  const [r] = await rows<RawRow & { seq: number | null; verdict: string | null }>(
    ex,
    sql`select ${ROW_COLUMNS}, s.seq, s.verdict from audit_events e left join audit_seals s on s.event_id = e.id where e.id = ${id}`,
  );
  return r ? { row: fromRaw(r), seq: r.seq === null ? null : Number(r.seq), verdict: r.verdict } : null;
}

/** Rows with no seal, oldest first (at most limit), and whether each lies below the sealer's horizon. */
export async function unsealedRows(ex: Executor, limit: number): Promise<{ row: AuditRow; belowHorizon: boolean }[]> {
  const found = await rows<RawRow & { below: boolean }>(
    ex,
    sql`
    select ${ROW_COLUMNS}, coalesce(e.xid < (select horizon from audit_checkpoints order by first_seq desc limit 1), false) as below
    from audit_events e where not exists (select 1 from audit_seals s where s.event_id = e.id) order by e.id limit ${limit}`,
  );
  return found.map((r) => ({ row: fromRaw(r), belowHorizon: Boolean(r.below) }));
}

/**
 * The rows awaiting their seal: those of transactions at or above the last checkpoint's horizon
 * (everything below it is sealed) without a seal. Cheap: the xid index bounds it to recent rows.
 */
export async function backlog(ex: Executor): Promise<{ rows: number; oldest: Date | null }> {
  const [r] = await rows<{ n: number; oldest: Date | string | null }>(
    ex,
    sql`
    select count(*)::int as n, min(e.ts) as oldest from audit_events e
    where e.xid >= coalesce((select horizon from audit_checkpoints order by first_seq desc limit 1), '0'::xid8)
      and not exists (select 1 from audit_seals s where s.event_id = e.id)`,
  );
  return { rows: Number(r?.n ?? 0), oldest: r?.oldest ? new Date(r.oldest) : null };
}

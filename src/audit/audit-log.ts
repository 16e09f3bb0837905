import { sql } from 'drizzle-orm';
import { hotQuery, isShared, pgErrorCode, rows, type Executor } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import { canonicalRow, chainHash, chainHashOf, GENESIS_HASH, type AuditRow } from './chain.js';

/** What callers record; id, time and hashes are assigned on append. */
export interface AuditEvent {
  requestId?: string | null;
  actor: string;
  action: string;
  outcome: string;
  namespace?: string | null;
  purpose?: string | null;
  details?: Record<string, unknown>;
  erasureId?: string | null;
}

interface Head {
  id: number;
  hash: Buffer;
}

/**
 * The head this process appended last: a hint that saves reading the head row. The append
 * statement moves the head only if it still holds exactly this id and hash, so a stale hint (an
 * append from another instance, a rolled-back transaction) costs one retry, never a wrong chain.
 */
let lastHead: Head | undefined;

/**
 * Steps run in the append's own statement, after the head has moved: CTE definitions whose last
 * one is named `guard` and yields one row with a boolean `ok`; their parameters are numbered from
 * $7. Their writes must be conditional on `(select ok from moved)`: when the head had moved on,
 * the statement writes nothing and is sent again from the new head. When ok is false, the
 * statement aborts and nothing of it (the guard's own writes included) remains.
 */
export interface AppendGuard {
  /** Names the prepared statement: one name per `ctes` text. */
  name: string;
  ctes: string;
  params: unknown[];
}

/** The SQLSTATE a refused guard raises (through tokenvault_abort, migration 0004). */
const GUARD_REFUSED = 'TVG01';
/** Tries of a guarded append whose head keeps moving, before its caller takes a transaction. */
const GUARDED_ATTEMPTS = 3;

/**
 * Moves the head ($1 id, $2 hash) if it is still at $3, $4, and only then inserts the rows. The
 * comparison is in SET, not WHERE: the UPDATE first waits for the row lock, then compares against
 * the latest committed head. (In WHERE it would be checked against the statement's snapshot first,
 * and an append queued behind another transaction's uncommitted one would always miss.) On a miss
 * the row is rewritten unchanged (and, in a transaction, stays locked for the retry). A guard runs
 * after the head: rows such as reveal budgets are only ever locked while the head is held.
 *
 * The rows travel as their canonical forms, the very text each hash covers, in one JSON array
 * ($5), and the hashes as one byte string ($6: the head's hash, then each row's, 32 bytes each, so
 * row n's previous hash is hash n - 1). Two parameters, where a column each cost the driver an
 * escaped text array apiece.
 */
function appendSql(guard?: AppendGuard): string {
  return `
  with moved as (
    update audit_head set
      id = case when id = $3 and hash = $4 then $1 else id end,
      hash = case when id = $3 and hash = $4 then $2 else hash end
    returning id = $1 and hash = $2 as ok
  )${guard ? `,\n${guard.ctes}` : ''}
  insert into audit_events (id, ts, request_id, actor, action, outcome, namespace, purpose, details, erasure_id, prev_hash, hash)
  select (r->>'id')::bigint, (r->>'ts')::timestamptz, r->>'requestId', r->>'actor', r->>'action', r->>'outcome',
         r->>'namespace', r->>'purpose', r->'details', (r->>'erasureId')::uuid,
         substring($6::bytea from (n::int - 1) * 32 + 1 for 32), substring($6::bytea from n::int * 32 + 1 for 32)
  from jsonb_array_elements($5::jsonb) with ordinality as u(r, n)
  where ${guard
    ? `case when not (select ok from moved) then false
            when not (select ok from guard) then tokenvault_abort('${GUARD_REFUSED}', 'append guard refused')
            else true end`
    : '(select ok from moved)'}
  returning id`;
}

const APPEND_SQL = appendSql();

/** Locks the head row and reads it in one statement (FOR UPDATE waits for a holder's commit). */
async function lockHead(ex: Executor): Promise<Head> {
  const [h] = await hotQuery<{ id: number; hash: Buffer | Uint8Array }>(ex, 'tv_audit_lock_head', 'select id, hash from audit_head for update', []);
  if (!h) throw new Error('audit_head row is missing: run the migrations');
  return { id: Number(h.id), hash: toBuffer(h.hash) };
}

/** This process's append in flight: the next one is sent when it has returned. */
let appendTail: Promise<unknown> = Promise.resolve();

/**
 * Appends events to the chain inside the caller's transaction, so they commit with the change
 * they record, or not at all. Call it last in the transaction: the head row stays locked to commit.
 * Usually one statement: it moves the head (if still where this process left it) and inserts.
 *
 * With a guard, outside any transaction: one statement moves the head, runs the guard and
 * appends, and commits on its own. It resolves false, having written nothing, when the guard
 * refused (or the head kept moving); the caller then takes its transactional path. Outside a
 * transaction, pass a connection already held (`withConnection`), never the pool (nor PGlite
 * outside a transaction): waiting for a connection while holding this process's turn could wait
 * forever on transactions that hold the connections and wait for the turn.
 *
 * This process sends one append at a time. The next one then chains from the head the previous
 * one wrote (still uncommitted): PostgreSQL holds it at the head row until that commit, and it
 * goes through without another round trip. Sent together, all but one would find the head moved.
 */
export function appendAudit(ex: Executor, events: AuditEvent[], guard?: AppendGuard): Promise<boolean> {
  if (isShared(ex)) return Promise.reject(new Error('appendAudit needs a transaction or a held connection, not the pool'));
  if (events.length === 0) return Promise.resolve(true);
  return inTurn(() => append(ex, events, guard));
}

/**
 * Locks the head in the caller's transaction, then asks `events` for the events (it may lock rows
 * of its own, such as reveal budgets: those are then locked after the head, as a guarded append
 * locks them), and appends them.
 */
export function appendAuditHeadFirst(tx: Executor, events: () => Promise<AuditEvent[]>): Promise<boolean> {
  return inTurn(async () => {
    lastHead = await lockHead(tx);
    const list = await events();
    return list.length === 0 || append(tx, list);
  });
}

/** This process's appends, one at a time. */
function inTurn(fn: () => Promise<boolean>): Promise<boolean> {
  const mine = appendTail.then(fn);
  appendTail = mine.catch(() => undefined);
  return mine;
}

/** The chain rows of events after head, as the append statement takes them. */
function chainRows(head: Head, events: AuditEvent[]) {
  const ts = new Date();
  const canonical: string[] = [];
  const hashes: Buffer[] = [head.hash];
  let prev = head.hash;
  let id = head.id;
  for (const e of events) {
    const row: AuditRow = {
      id: ++id,
      ts,
      requestId: e.requestId ?? null,
      actor: e.actor,
      action: e.action,
      outcome: e.outcome,
      namespace: e.namespace ?? null,
      purpose: e.purpose ?? null,
      details: e.details ?? {},
      erasureId: e.erasureId ?? null,
    };
    const text = canonicalRow(row);
    prev = chainHashOf(prev, text);
    canonical.push(text);
    hashes.push(prev);
  }
  return {
    next: { id, hash: prev },
    params: [id, prev, head.id, head.hash, `[${canonical.join(',')}]`, Buffer.concat(hashes)],
  };
}

async function append(ex: Executor, events: AuditEvent[], guard?: AppendGuard): Promise<boolean> {
  let head = lastHead ?? (await lockHead(ex));
  for (let attempt = 1; ; attempt++) {
    const { next, params } = chainRows(head, events);
    let inserted: unknown[];
    try {
      inserted = guard
        ? await hotQuery(ex, `tv_audit_append_${guard.name}`, appendSql(guard), [...params, ...guard.params])
        : await hotQuery(ex, 'tv_audit_append', APPEND_SQL, params);
    } catch (err) {
      if (guard && pgErrorCode(err) === GUARD_REFUSED) return false;
      throw err;
    }
    if (inserted.length === events.length) {
      lastHead = next;
      return true;
    }
    if (guard && attempt >= GUARDED_ATTEMPTS) return false;
    // The head moved since this process last saw it: lock it where it is now (outside a
    // transaction, just read it), and chain from there.
    head = lastHead = await lockHead(ex);
  }
}

export interface StoredAuditRow extends AuditRow {
  prevHash: Buffer;
  hash: Buffer;
}

interface RawRow {
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
  prev_hash: Buffer | Uint8Array;
  hash: Buffer | Uint8Array;
}

function fromRaw(r: RawRow): StoredAuditRow {
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
    prevHash: toBuffer(r.prev_hash),
    hash: toBuffer(r.hash),
  };
}

export type VerifyResult =
  | { ok: true; rowsChecked: number; head: { id: number; hash: string } | null }
  | { ok: false; rowsChecked: number; brokenAt: number; reason: string };

const PAGE = 5000;

/**
 * Walks the chain from the first row: ids must be contiguous from 1, each prev_hash must be the
 * previous row's hash, and each hash must match the row's content. The chain must reach the head
 * row (read first, so appends during the walk do not matter) with the head's hash: rows cut from
 * the end are caught unless the head was moved back too. With an anchor (an id and hash recorded
 * outside the database earlier), the chain must still contain that row with that hash.
 */
export async function verifyAudit(ex: Executor, anchor?: { id: number; hash: string }): Promise<VerifyResult> {
  const [head] = await rows<{ id: number; hash: Buffer | Uint8Array }>(ex, sql`select id, hash from audit_head`);
  const headId = head ? Number(head.id) : 0;
  let prev: Buffer = GENESIS_HASH;
  let expectedId = 1;
  let checked = 0;
  let anchorSeen = false;
  for (;;) {
    const page = (await rows<RawRow>(ex, sql`select * from audit_events where id >= ${expectedId} order by id limit ${PAGE}`)).map(fromRaw);
    for (const r of page) {
      if (r.id !== expectedId) return { ok: false, rowsChecked: checked, brokenAt: expectedId, reason: `row ${expectedId} is missing` };
      if (!r.prevHash.equals(prev)) return { ok: false, rowsChecked: checked, brokenAt: r.id, reason: 'prev_hash does not match the previous row' };
      if (!chainHash(prev, r).equals(r.hash)) return { ok: false, rowsChecked: checked, brokenAt: r.id, reason: 'row content does not match its hash' };
      if (head && r.id === headId && !r.hash.equals(toBuffer(head.hash))) return { ok: false, rowsChecked: checked, brokenAt: r.id, reason: 'row does not match the recorded chain head' };
      if (anchor && r.id === anchor.id) {
        if (r.hash.toString('hex') !== anchor.hash) return { ok: false, rowsChecked: checked, brokenAt: r.id, reason: 'row does not match the anchor' };
        anchorSeen = true;
      }
      prev = r.hash;
      expectedId++;
      checked++;
    }
    if (page.length < PAGE) break;
  }
  if (expectedId <= headId) return { ok: false, rowsChecked: checked, brokenAt: expectedId, reason: `rows ${expectedId} to ${headId} are missing from the end of the chain` };
  // Rows before the first one we saw may have been removed wholesale: ids start at 1.
  if (anchor && !anchorSeen) return { ok: false, rowsChecked: checked, brokenAt: anchor.id, reason: 'the anchored row is no longer in the chain' };
  return { ok: true, rowsChecked: checked, head: checked ? { id: expectedId - 1, hash: prev.toString('hex') } : null };
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

export async function queryAudit(ex: Executor, q: AuditQuery): Promise<StoredAuditRow[]> {
  const conds = [sql`id > ${q.after ?? 0}`];
  if (q.actor) conds.push(sql`actor = ${q.actor}`);
  if (q.action) conds.push(sql`action = ${q.action}`);
  if (q.outcome) conds.push(sql`outcome = ${q.outcome}`);
  if (q.namespace) conds.push(sql`namespace = ${q.namespace}`);
  if (q.token) conds.push(sql`(details->>'token' = ${q.token} or details->'tokens' ? ${q.token})`);
  if (q.from) conds.push(sql`ts >= ${q.from.toISOString()}`);
  if (q.to) conds.push(sql`ts < ${q.to.toISOString()}`);
  const where = sql.join(conds, sql` and `);
  return (await rows<RawRow>(ex, sql`select * from audit_events where ${where} order by id limit ${q.limit}`)).map(fromRaw);
}

export async function auditHead(ex: Executor): Promise<{ id: number; hash: string } | null> {
  const [r] = await rows<{ id: number; hash: Buffer | Uint8Array }>(ex, sql`select id, hash from audit_events order by id desc limit 1`);
  return r ? { id: Number(r.id), hash: toBuffer(r.hash).toString('hex') } : null;
}

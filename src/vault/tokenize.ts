import type { KeyObject } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { createBatcher } from './batcher.js';
import { encrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import { hotQuery, type Db, type Executor, pgErrorCode } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import { errors } from '../errors.js';
import type { RandomSource } from '../formats/random.js';
import { FormatError, type TokenType } from '../formats/registry.js';
import type { DataKeys } from './data-keys.js';
import type { Namespace } from './policy.js';
import type { Principal } from './principal.js';
import type { TokenCache } from './token-cache.js';

export interface TokenizeItem {
  type: TokenType;
  value: string;
  subject?: string | undefined;
}

export interface TokenizeArgs {
  principal: Principal;
  ns: Namespace;
  items: TokenizeItem[];
  onInvalid: 'reject' | 'skip';
  requestId: string;
}

export type TokenizeResult =
  | { token: string; type: TokenType; created: boolean }
  | { index: number; error: { code: string; message: string } };

/** One distinct value in a batch (items with the same fingerprint share one). */
interface Entry {
  fp: Buffer;
  fpHex: string;
  type: TokenType;
  normalized: string;
  subjects: Buffer[];
  token?: string;
  mappingId?: number;
  created: boolean;
}

/**
 * Get-or-create in one statement. Inserts one mapping per element of the arrays ($1 namespace,
 * $2 consistent, $3–$7 type, token, fingerprint, DEK id, ciphertext) and, in a consistent
 * namespace, returns beside the new rows (created) the rows that already held those fingerprints
 * when the statement began. A row a concurrent writer committed during the statement is in
 * neither: the caller asks again. Tokens once erased are never reissued: candidates found in
 * tombstones are skipped (and redrawn). The bench's raw-insert ceiling runs this same statement.
 */
export const GET_OR_CREATE_SQL = `with ins as (
    insert into mappings (namespace, type, token, fingerprint, consistent, dek_id, ciphertext)
    select $1, u.type, u.token, u.fp, $2, u.dek, u.ct
    from unnest($3::text[], $4::text[], $5::bytea[], $6::uuid[], $7::bytea[]) as u(type, token, fp, dek, ct)
    where not exists (select 1 from tombstones t where t.namespace = $1 and t.token = u.token)
    on conflict do nothing
    returning id, token
  )
  select id, token, null::bytea as fingerprint from ins
  union all
  select id, token, fingerprint from mappings where $2 and consistent and fingerprint = any($5::bytea[])`;

const MAX_TOKEN_ATTEMPTS = 8;
/** Queued values from which a second concurrent flush of a namespace starts. */
const PARALLEL_FLUSH_ENTRIES = 500;
const MAX_TX_ATTEMPTS = 3;
/** Keys entries of random-token namespaces apart, across requests merged into one flush. */
let randomKeySeq = 0;

export function createTokenizer(deps: { db: Db; keyring: Keyring; dataKeys: DataKeys; rng: RandomSource; cache: TokenCache; auditLog: AuditLog }) {
  const { db, keyring, dataKeys, rng, cache } = deps;

  function prepare(ns: Namespace, items: TokenizeItem[], onInvalid: 'reject' | 'skip') {
    const results: TokenizeResult[] = new Array(items.length);
    const entries = new Map<string, Entry>();
    const itemEntry: (Entry | undefined)[] = new Array(items.length);
    const problems: { index: number; code: string; message: string }[] = [];
    items.forEach((item, index) => {
      let normalized: string;
      try {
        normalized = ns.formats[item.type].normalize(item.value);
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
        problems.push({ index, code: err.code, message: err.message });
        results[index] = { index, error: { code: err.code, message: err.message } };
        return;
      }
      const fp = keyring.fingerprint(ns.name, item.type, normalized);
      // In a random-token namespace every item is its own entry: no two calls share a token.
      const key = ns.consistent ? fp.toString('hex') : `${fp.toString('hex')}#${++randomKeySeq}`;
      let e = entries.get(key);
      if (!e) {
        e = { fp, fpHex: key, type: item.type, normalized, subjects: [], created: false };
        entries.set(key, e);
      }
      if (item.subject !== undefined) e.subjects.push(keyring.subjectHmac(item.subject));
      itemEntry[index] = e;
    });
    if (problems.length && onInvalid === 'reject') {
      throw errors.validation(`${problems.length} item(s) are invalid; nothing was stored`, { items: problems });
    }
    return { results, entries: [...entries.values()], itemEntry, problems };
  }

  /**
   * Finds or creates the mappings of the entries. An entry gets its existing row or a new one; one
   * whose row a concurrent writer committed meanwhile, or whose token collided, goes round again.
   */
  async function getOrCreate(tx: Executor, ns: Namespace, pending: Entry[], subjectDeks: Map<string, { id: string; key: KeyObject }>, nsDek: { id: string; key: KeyObject }) {
    // Sorted by fingerprint: concurrent batches sharing new values take index locks in one order.
    // (Lowercase hex sorts as the bytes do, and compares without a call into C++.)
    let todo = [...pending].sort((a, b) => (a.fpHex < b.fpHex ? -1 : a.fpHex > b.fpHex ? 1 : 0));
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt >= MAX_TOKEN_ATTEMPTS) throw errors.tokenSpaceExhausted();
      const cols = { type: [] as string[], token: [] as string[], fp: [] as Buffer[], dek: [] as string[], ct: [] as Buffer[] };
      const byToken = new Map<string, Entry>();
      for (const e of todo) {
        // Tokens are unique within the batch before they reach the database: the insert result
        // is matched back to entries by token.
        let token = ns.formats[e.type].generate(e.normalized, rng);
        for (let i = 0; byToken.has(token); i++) {
          if (i >= MAX_TOKEN_ATTEMPTS) throw errors.tokenSpaceExhausted();
          token = ns.formats[e.type].generate(e.normalized, rng);
        }
        const firstSubject = e.subjects[0];
        const dek = firstSubject ? subjectDeks.get(firstSubject.toString('hex'))! : nsDek;
        cols.type.push(e.type);
        cols.token.push(token);
        cols.fp.push(e.fp);
        cols.dek.push(dek.id);
        cols.ct.push(encrypt(dek.key, Buffer.from(e.normalized, 'utf8'), valueAad(ns.name, e.type, token), rng));
        byToken.set(token, e);
      }
      const found = await hotQuery<{ id: number; token: string; fingerprint: Buffer | Uint8Array | null }>(tx, 'tv_get_or_create', GET_OR_CREATE_SQL, [ns.name, ns.consistent, cols.type, cols.token, cols.fp, cols.dek, cols.ct]);
      const existing = new Map<string, { id: number; token: string }>();
      for (const r of found) {
        if (r.fingerprint) {
          existing.set(toBuffer(r.fingerprint).toString('hex'), r);
          continue;
        }
        const e = byToken.get(r.token)!;
        e.token = r.token;
        e.mappingId = Number(r.id);
        e.created = true;
      }
      for (const e of todo) {
        const r = e.mappingId === undefined ? existing.get(e.fpHex) : undefined;
        if (r) {
          e.token = r.token;
          e.mappingId = Number(r.id);
        }
      }
      todo = todo.filter((e) => e.mappingId === undefined);
    }
  }

  async function link(tx: Executor, entries: Entry[]): Promise<void> {
    const hmacs: Buffer[] = [];
    const ids: number[] = [];
    for (const e of entries) for (const s of e.subjects) {
      hmacs.push(s);
      ids.push(e.mappingId!);
    }
    if (!ids.length) return;
    await tx.execute(sql`
      insert into subject_links (subject_hmac, mapping_id)
      select * from unnest(${sql.param(hmacs)}::bytea[], ${sql.param(ids)}::bigint[]) order by 1, 2
      on conflict do nothing`);
  }

  /**
   * Writes every pending entry of one namespace, for one or many requests, in one transaction.
   * `handOver` is called once the mappings are written: the next flush may start while this one
   * appends its audit rows and commits.
   */
  async function writeEntries(ns: Namespace, entries: Entry[], events: () => AuditEvent[], handOver: () => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      for (const e of entries) {
        e.token = undefined;
        e.mappingId = undefined;
        e.created = false;
      }
      // Values without a subject that this process has met twice need no database read.
      const pending: Entry[] = [];
      for (const e of entries) {
        const cached = ns.consistent && e.subjects.length === 0 ? cache.get(e.fpHex) : undefined;
        if (cached) e.token = cached;
        else pending.push(e);
      }
      const nsDek = pending.some((e) => e.subjects.length === 0) ? await dataKeys.namespaceDek(ns.name) : undefined;
      try {
        await db.transaction(async (tx) => {
          const allSubjects = entries.flatMap((e) => e.subjects);
          const subjectDeks = allSubjects.length ? await dataKeys.lockSubjectDeks(tx, allSubjects) : new Map();
          if (pending.length) await getOrCreate(tx, ns, pending, subjectDeks, nsDek!);
          await link(tx, entries.filter((e) => e.subjects.length));
          handOver();
          await deps.auditLog.append(tx, events());
        });
        break;
      } catch (err) {
        // A mapping found by this transaction was erased before the link was written: start over.
        if (pgErrorCode(err) === '23503' && attempt < MAX_TX_ATTEMPTS) continue;
        throw err;
      }
    }
    // Only values met before enter the cache: a value this flush created is cached when it comes
    // again. A stream of new values would otherwise fill it with values seen once, and emptying it
    // when full would drop the repeated ones with them (and caching them cost ~6% of the CPU of a
    // batch of new values).
    for (const e of entries) if (ns.consistent && e.subjects.length === 0 && !e.created) cache.set(e.fpHex, e.token!);
  }

  interface Job {
    args: TokenizeArgs;
    entries: Entry[];
    invalid: number;
  }

  /**
   * Concurrent requests for one namespace are merged: equal values share one entry (the first
   * request to ask is the one that "created" it), and all of them commit together, each with its
   * own audit row. A failure fails every request of that flush, never half of one.
   */
  async function flush(ns: Namespace, jobs: Job[], handOver: () => void): Promise<void[]> {
    const merged = new Map<string, Entry>();
    const owner = new Map<Entry, Entry>();
    for (const job of jobs) {
      for (const e of job.entries) {
        const c = merged.get(e.fpHex);
        if (!c) merged.set(e.fpHex, e);
        else if (c !== e) c.subjects.push(...e.subjects);
        owner.set(e, merged.get(e.fpHex)!);
      }
    }
    // An entry merged into another request's is answered from it, as existing for this request.
    const settle = () => {
      for (const [e, c] of owner) {
        if (c === e) continue;
        e.token = c.token;
        e.mappingId = c.mappingId;
        e.created = false;
      }
    };
    await writeEntries(ns, [...merged.values()], () => {
      settle();
      return jobs.map((job) => auditEvent(job.args, job.entries, job.invalid));
    }, handOver);
    settle();
    return jobs.map(() => undefined);
  }

  const batchers = new Map<string, ReturnType<typeof createBatcher<Job, void>>>();
  function batcherFor(ns: Namespace) {
    let b = batchers.get(ns.name);
    if (!b) {
      b = createBatcher<Job, void>({
        maxJobs: 256,
        // Two flushes write mappings side by side only when there is bulk to write (batches of
        // 1,000: ~29k vs ~21k values/s with two). Small requests write one flush at a time, but a
        // flush hands over once its mappings are written, so the next one's mappings overlap its
        // audit append and commit (single values: 47% vs 42% of the echo, medians of 8 alternating
        // runs in docs/performance.md).
        concurrency: 2,
        parallelWhen: (queued) => queued.reduce((n, job) => n + job.entries.length, 0) >= PARALLEL_FLUSH_ENTRIES,
        run: (jobs, handOver) => flush(ns, jobs, handOver),
      });
      batchers.set(ns.name, b);
    }
    return b;
  }

  return {
    async tokenize(args: TokenizeArgs): Promise<TokenizeResult[]> {
      const { results, entries, itemEntry, problems } = prepare(args.ns, args.items, args.onInvalid);
      await batcherFor(args.ns).submit({ args, entries, invalid: problems.length });
      args.items.forEach((item, i) => {
        const e = itemEntry[i];
        if (e) results[i] = { token: e.token!, type: item.type, created: e.created };
      });
      return results;
    },
  };

  function auditEvent(args: TokenizeArgs, entries: Entry[], invalid: number): AuditEvent {
    const counts: Record<string, { created: number; existing: number }> = {};
    for (const e of entries) {
      const c = (counts[e.type] ??= { created: 0, existing: 0 });
      if (e.created) c.created++;
      else c.existing++;
    }
    return {
      requestId: args.requestId,
      actor: args.principal.id,
      action: 'tokenize',
      outcome: 'success',
      namespace: args.ns.name,
      details: { counts, ...(invalid ? { skipped: invalid } : {}) },
    };
  }
}

export type Tokenizer = ReturnType<typeof createTokenizer>;

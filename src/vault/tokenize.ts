import type { KeyObject } from 'node:crypto';
import { appendAudit, type AuditEvent } from '../audit/audit-log.js';
import { createBatcher } from './batcher.js';
import { encrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import { hotQuery, type Db, type Executor, pgErrorCode } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import { errors } from '../errors.js';
import type { RandomSource } from '../formats/random.js';
import { FormatError, type TokenType } from '../formats/registry.js';
import type { DataKeys } from './data-keys.js';
import { mayAttachSubjects, type Namespace } from './policy.js';
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
  /** The existing mapping still holds its namespace-key copy (no subject held it until now). */
  nsCopy?: boolean;
}

/**
 * Get-or-create in one statement. Inserts one mapping per element of the arrays ($1 namespace,
 * $2 consistent, $3–$7 type, token, fingerprint, DEK id, ciphertext) and, in a consistent
 * namespace, returns beside the new rows (created) the rows that already held those fingerprints
 * when the statement began. A row a concurrent writer committed during the statement is in
 * neither: the caller asks again. Tokens once erased are never reissued: candidates found in
 * tombstones are skipped (and redrawn). A value with subjects is inserted without a namespace copy
 * (null DEK and ciphertext): its copies go into its subject links. The bench's raw-insert ceiling
 * runs this same statement.
 */
export const GET_OR_CREATE_SQL = `with ins as (
    insert into mappings (namespace, type, token, fingerprint, consistent, dek_id, ciphertext)
    select $1, u.type, u.token, u.fp, $2, u.dek, u.ct
    from unnest($3::text[], $4::text[], $5::bytea[], $6::uuid[], $7::bytea[]) as u(type, token, fp, dek, ct)
    where not exists (select 1 from tombstones t where t.namespace = $1 and t.token = u.token)
    on conflict do nothing
    returning id, token
  )
  select id, token, null::bytea as fingerprint, false as ns_copy from ins
  union all
  select id, token, fingerprint, ciphertext is not null from mappings where $2 and consistent and fingerprint = any($5::bytea[])`;

/**
 * Subject links, each with the subject's own copy of the value. Ordered by mapping id: the row
 * locks their foreign-key checks take on existing mappings then come in the order in which an
 * erasure by subject locks mappings, so the two cannot deadlock.
 */
const LINK_SQL = `insert into subject_links (subject_hmac, mapping_id, dek_id, ciphertext)
  select * from unnest($1::bytea[], $2::bigint[], $3::uuid[], $4::bytea[]) order by 2, 1
  on conflict do nothing`;

/**
 * A value held without a subject until now has just been linked to one: its namespace-key copy
 * goes, so that once its subjects are erased no key that survives them opens any copy of it.
 * Kept while a link written before per-link copies has no copy of its own (it reads this one).
 */
const DROP_NAMESPACE_COPY_SQL = `update mappings m set dek_id = null, ciphertext = null
  where id = any($1::bigint[]) and ciphertext is not null
    and not exists (select 1 from subject_links l where l.mapping_id = m.id and l.ciphertext is null)`;

/** The erasure feed head: an index-only read of its highest sequence number. */
export const ERASURE_HEAD_SQL = 'select coalesce(max(seq), 0)::bigint as s from erasures';

/** An erasure removed a mapping this transaction was about to answer with: it runs again. */
class ErasedMeanwhile extends Error {}

const MAX_TOKEN_ATTEMPTS = 8;
/** Queued values from which a second concurrent flush of a namespace starts. */
const PARALLEL_FLUSH_ENTRIES = 500;
const MAX_TX_ATTEMPTS = 3;
/** Keys entries of random-token namespaces apart, across requests merged into one flush. */
let randomKeySeq = 0;

export function createTokenizer(deps: { db: Db; keyring: Keyring; dataKeys: DataKeys; rng: RandomSource; cache: TokenCache; sawErasureHead: (head: number) => void }) {
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
  async function getOrCreate(tx: Executor, ns: Namespace, pending: Entry[], nsDek: { id: string; key: KeyObject } | undefined) {
    // Sorted by fingerprint: concurrent batches sharing new values take index locks in one order.
    // (Lowercase hex sorts as the bytes do, and compares without a call into C++.)
    let todo = [...pending].sort((a, b) => (a.fpHex < b.fpHex ? -1 : a.fpHex > b.fpHex ? 1 : 0));
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt >= MAX_TOKEN_ATTEMPTS) throw errors.tokenSpaceExhausted();
      const cols = { type: [] as string[], token: [] as string[], fp: [] as Buffer[], dek: [] as (string | null)[], ct: [] as (Buffer | null)[] };
      const byToken = new Map<string, Entry>();
      for (const e of todo) {
        // Tokens are unique within the batch before they reach the database: the insert result
        // is matched back to entries by token.
        let token = ns.formats[e.type].generate(e.normalized, rng);
        for (let i = 0; byToken.has(token); i++) {
          if (i >= MAX_TOKEN_ATTEMPTS) throw errors.tokenSpaceExhausted();
          token = ns.formats[e.type].generate(e.normalized, rng);
        }
        cols.type.push(e.type);
        cols.token.push(token);
        cols.fp.push(e.fp);
        const dek = e.subjects.length ? null : nsDek!;
        cols.dek.push(dek && dek.id);
        cols.ct.push(dek && encrypt(dek.key, Buffer.from(e.normalized, 'utf8'), valueAad(ns.name, e.type, token), rng));
        byToken.set(token, e);
      }
      const found = await hotQuery<{ id: number; token: string; fingerprint: Buffer | Uint8Array | null; ns_copy: boolean }>(tx, 'tv_get_or_create', GET_OR_CREATE_SQL, [ns.name, ns.consistent, cols.type, cols.token, cols.fp, cols.dek, cols.ct]);
      const existing = new Map<string, { id: number; token: string; ns_copy: boolean }>();
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
          e.nsCopy = r.ns_copy;
        }
      }
      todo = todo.filter((e) => e.mappingId === undefined);
    }
  }

  /** Links each entry to its subjects, each link with its own copy under that subject's key. */
  async function link(tx: Executor, ns: Namespace, entries: Entry[], subjectDeks: Map<string, { id: string; key: KeyObject }>): Promise<void> {
    const cols = { hmac: [] as Buffer[], id: [] as number[], dek: [] as string[], ct: [] as Buffer[] };
    const moved: number[] = [];
    for (const e of entries) {
      const plain = Buffer.from(e.normalized, 'utf8');
      for (const [hex, s] of new Map(e.subjects.map((h) => [h.toString('hex'), h]))) {
        const dek = subjectDeks.get(hex)!;
        cols.hmac.push(s);
        cols.id.push(e.mappingId!);
        cols.dek.push(dek.id);
        cols.ct.push(encrypt(dek.key, plain, valueAad(ns.name, e.type, e.token!), rng));
      }
      if (e.nsCopy) moved.push(e.mappingId!);
    }
    if (!cols.id.length) return;
    await hotQuery(tx, 'tv_link', LINK_SQL, [cols.hmac, cols.id, cols.dek, cols.ct]);
    // After the links: this transaction already holds a lock on each of these rows, so the update
    // only upgrades it (an erasure waiting for the row cannot deadlock with it).
    if (moved.length) await hotQuery(tx, 'tv_drop_ns_copy', DROP_NAMESPACE_COPY_SQL, [moved.sort((x, y) => x - y)]);
  }

  /**
   * Answers read from the cache or from mappings this transaction did not create are only as good
   * as the erasure epoch they were read in. Reads the feed head in this transaction: unchanged,
   * they all still hold; moved, each is confirmed to still have its mapping (or the attempt runs
   * again). Returns the epoch under which the answers may be cached.
   */
  async function confirmAnswers(tx: Executor, ns: Namespace, entries: Entry[], seenAt: number | undefined): Promise<number> {
    const [h] = await hotQuery<{ s: number | string }>(tx, 'tv_erasure_head', ERASURE_HEAD_SQL, []);
    const head = Number(h!.s);
    if (head === seenAt) return head;
    deps.sawErasureHead(head);
    const tokens = entries.filter((e) => !e.created).map((e) => e.token!);
    const present = await hotQuery<{ token: string }>(tx, 'tv_confirm_tokens', 'select token from mappings where namespace = $1 and token = any($2::text[])', [ns.name, tokens]);
    if (present.length < new Set(tokens).size) throw new ErasedMeanwhile();
    return head;
  }

  /**
   * Writes every pending entry of one namespace, for one or many requests, in one transaction.
   * `handOver` is called once the mappings are written: the next flush may start while this one
   * appends its audit rows and commits.
   */
  async function writeEntries(ns: Namespace, entries: Entry[], events: () => AuditEvent[], handOver: () => void): Promise<void> {
    /** The erasure epoch in which this flush's answers were confirmed. */
    let validAt: number | undefined;
    for (let attempt = 1; ; attempt++) {
      validAt = undefined;
      for (const e of entries) {
        e.token = undefined;
        e.mappingId = undefined;
        e.created = false;
        e.nsCopy = false;
      }
      // Values without a subject that this process has met twice need no database read.
      const seenAt = cache.epoch;
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
          if (pending.length) await getOrCreate(tx, ns, pending, nsDek);
          await link(tx, ns, entries.filter((e) => e.subjects.length), subjectDeks);
          // Mappings this transaction created are invisible to any erasure until it commits.
          if (entries.some((e) => !e.created)) validAt = await confirmAnswers(tx, ns, entries, seenAt);
          handOver();
          await appendAudit(tx, events());
        });
        break;
      } catch (err) {
        if (attempt < MAX_TX_ATTEMPTS && isRetryable(err)) continue;
        throw err;
      }
    }
    // Only values met before enter the cache: a value this flush created is cached when it comes
    // again. A stream of new values would otherwise fill it with values seen once, and emptying it
    // when full would drop the repeated ones with them (and caching them cost ~6% of the CPU of a
    // batch of new values).
    for (const e of entries) if (ns.consistent && e.subjects.length === 0 && !e.created) cache.set(e.fpHex, e.token!, validAt);
  }

  /**
   * Start over when a mapping this attempt found was erased before the link was written (23503)
   * or before the answers were confirmed, or when PostgreSQL broke a lock cycle with an erasure
   * or another batch (40P01).
   */
  function isRetryable(err: unknown): boolean {
    return err instanceof ErasedMeanwhile || pgErrorCode(err) === '23503' || pgErrorCode(err) === '40P01';
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
      if (!mayAttachSubjects(args.ns, args.principal.id) && args.items.some((item) => item.subject !== undefined)) {
        throw errors.forbidden(`namespace ${args.ns.name} does not let this principal link values to subjects (policy: attachSubjects); nothing was stored`);
      }
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

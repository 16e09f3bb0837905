import type { KeyObject } from 'node:crypto';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { createBatcher } from './batcher.js';
import { encrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import type { Db, Executor } from '../db/client.js';
import type { ErasuresRepository } from '../db/repositories/erasures-repository.js';
import type { MappingsRepository } from '../db/repositories/mappings-repository.js';
import type { SubjectLinksRepository } from '../db/repositories/subject-links-repository.js';
import { errors, MappingErasedError } from '../errors.js';
import { pgErrorCode } from '../db/client.js';
import type { RandomSource } from '../crypto/random.js';
import type { DataKeys } from './data-keys.js';
import { mayAttachSubjects, type Namespace } from './policy.js';
import type { Principal } from './principal.js';
import type { TokenCache } from './token-cache.js';
import {
  mergePlans,
  planRequest,
  settle,
  tokenizeAuditEvent,
  tokenizeResults,
  type PlannedValue,
  type RequestPlan,
  type TokenizeItem,
  type TokenizeResult,
  type ValueOutcome,
} from './tokenize-plan.js';

export type { TokenizeItem, TokenizeResult } from './tokenize-plan.js';

export interface TokenizeArgs {
  principal: Principal;
  ns: Namespace;
  items: TokenizeItem[];
  onInvalid: 'reject' | 'skip';
  requestId: string;
}

/** The bench's raw-insert ceiling runs this statement: re-exported where it always was. */
export { GET_OR_CREATE_SQL } from '../db/repositories/mappings-repository.js';

const MAX_TOKEN_ATTEMPTS = 8;
/** Queued values from which a second concurrent flush of a namespace starts. */
const PARALLEL_FLUSH_ENTRIES = 500;
const MAX_TX_ATTEMPTS = 3;

/** An erasure removed a mapping this transaction was about to answer with: it runs again. */
class ErasedMeanwhile extends Error {}

/**
 * The executor of tokenize plans (tokenize-plan.ts): batches concurrent requests per namespace and
 * writes each batch in one transaction.
 */
/** An outcome as written: whether the existing row still held its namespace-key copy. */
type Written = ValueOutcome & { nsCopy?: boolean };

export function createTokenizer(deps: {
  db: Db;
  keyring: Keyring;
  dataKeys: DataKeys;
  mappings: MappingsRepository;
  subjectLinks: SubjectLinksRepository;
  erasures: ErasuresRepository;
  rng: RandomSource;
  cache: TokenCache;
  sawErasureHead: (head: number) => void;
  auditLog: AuditLog;
}) {
  const { db, keyring, dataKeys, mappings, subjectLinks, rng, cache } = deps;

  /**
   * Finds or creates the mappings of the values, in their order. A value gets its existing row or
   * a new one; one whose row a concurrent writer committed meanwhile, or whose token collided, goes
   * round again.
   */
  async function getOrCreate(
    tx: Executor,
    ns: Namespace,
    pending: PlannedValue[],
    nsDek: { id: string; key: KeyObject } | undefined,
  ): Promise<Written[]> {
    const out: (Written | undefined)[] = new Array(pending.length);
    // Sorted by fingerprint: concurrent batches sharing new values take index locks in one order.
    // (Lowercase hex sorts as the bytes do, and compares without a call into C++.)
    let todo = pending
      .map((_, i) => i)
      .sort((a, b) => (pending[a]!.fpHex < pending[b]!.fpHex ? -1 : pending[a]!.fpHex > pending[b]!.fpHex ? 1 : 0));
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt >= MAX_TOKEN_ATTEMPTS) throw errors.tokenSpaceExhausted();
      const cols = {
        type: [] as string[],
        token: [] as string[],
        fingerprint: [] as Buffer[],
        dekId: [] as (string | null)[],
        ciphertext: [] as (Buffer | null)[],
      };
      const byToken = new Map<string, number>();
      for (const i of todo) {
        const v = pending[i]!;
        // Tokens are unique within the batch before they reach the database: the insert result
        // is matched back to values by token.
        let token = ns.formats[v.type].generate(v.normalized, rng);
        for (let n = 0; byToken.has(token); n++) {
          if (n >= MAX_TOKEN_ATTEMPTS) throw errors.tokenSpaceExhausted();
          token = ns.formats[v.type].generate(v.normalized, rng);
        }
        // A value with subjects keeps no namespace copy: each subject link carries its own.
        const dek = v.subjects.length ? null : nsDek!;
        cols.type.push(v.type);
        cols.token.push(token);
        cols.fingerprint.push(v.fp);
        cols.dekId.push(dek && dek.id);
        cols.ciphertext.push(dek && encrypt(dek.key, Buffer.from(v.normalized, 'utf8'), valueAad(ns.name, v.type, token), rng));
        byToken.set(token, i);
      }
      const found = await mappings.getOrCreate({ tx, namespace: ns.name, consistent: ns.consistent, rows: cols });
      const existing = new Map<string, { id: number; token: string; nsCopy: boolean }>();
      for (const r of found) {
        if (r.fingerprint) {
          existing.set(r.fingerprint.toString('hex'), r);
          continue;
        }
        out[byToken.get(r.token)!] = { token: r.token, mappingId: r.id, created: true };
      }
      for (const i of todo) {
        const r = out[i] === undefined ? existing.get(pending[i]!.fpHex) : undefined;
        if (r) out[i] = { token: r.token, mappingId: r.id, created: false, nsCopy: r.nsCopy };
      }
      todo = todo.filter((i) => out[i] === undefined);
    }
    return out as Written[];
  }

  /** Links each value to its subjects, each link with its own copy under that subject's key. */
  async function link(
    tx: Executor,
    ns: Namespace,
    values: PlannedValue[],
    outcomes: Written[],
    subjectDeks: Map<string, { id: string; key: KeyObject }>,
  ): Promise<void> {
    const links = { subjectHmac: [] as Buffer[], mappingId: [] as number[], dekId: [] as string[], ciphertext: [] as Buffer[] };
    const moved: number[] = [];
    values.forEach((v, i) => {
      if (!v.subjects.length) return;
      const o = outcomes[i]!;
      const plain = Buffer.from(v.normalized, 'utf8');
      for (const [hex, s] of new Map(v.subjects.map((h) => [h.toString('hex'), h]))) {
        const dek = subjectDeks.get(hex)!;
        links.subjectHmac.push(s);
        links.mappingId.push(o.mappingId!);
        links.dekId.push(dek.id);
        links.ciphertext.push(encrypt(dek.key, plain, valueAad(ns.name, v.type, o.token), rng));
      }
      if (o.nsCopy) moved.push(o.mappingId!);
    });
    await subjectLinks.link({ tx, links, moved });
  }

  /**
   * Answers read from the cache or from mappings this transaction did not create are only as good
   * as the erasure epoch they were read in. Reads the feed head in this transaction: unchanged,
   * they all still hold; moved, each is confirmed to still have its mapping (or the attempt runs
   * again). Returns the epoch under which the answers may be cached.
   */
  async function confirmAnswers(tx: Executor, ns: Namespace, outcomes: Written[], seenAt: number | undefined): Promise<number> {
    const head = await deps.erasures.head({ tx });
    if (head === seenAt) return head;
    deps.sawErasureHead(head);
    const tokens = [...new Set(outcomes.filter((o) => !o.created).map((o) => o.token))];
    const present = await mappings.presentTokens({ tx, namespace: ns.name, tokens });
    if (present.length < tokens.length) throw new ErasedMeanwhile();
    return head;
  }

  /**
   * Start over when a mapping this attempt found was erased before the link was written or before
   * the answers were confirmed, or when PostgreSQL broke a lock cycle with an erasure or another
   * batch (40P01).
   */
  function isRetryable(err: unknown): boolean {
    return err instanceof ErasedMeanwhile || err instanceof MappingErasedError || pgErrorCode(err) === '40P01';
  }

  /**
   * Writes the values of one namespace, for one or many requests, in one transaction, and returns
   * their outcomes in order. `handOver` is called once the mappings are written: the next flush
   * may start while this one appends its audit rows (`events`, given the outcomes) and commits.
   */
  async function writeEntries(
    ns: Namespace,
    values: PlannedValue[],
    events: (outcomes: ValueOutcome[]) => AuditEvent[],
    handOver: () => void,
  ): Promise<ValueOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      const outcomes: Written[] = new Array(values.length);
      // Values without a subject that this process has met twice need no database read.
      const seenAt = cache.epoch;
      let validAt: number | undefined;
      const pending: number[] = [];
      values.forEach((v, i) => {
        const cached = ns.consistent && v.subjects.length === 0 ? cache.get(v.fpHex) : undefined;
        if (cached) outcomes[i] = { token: cached, mappingId: undefined, created: false };
        else pending.push(i);
      });
      const nsDek = pending.some((i) => values[i]!.subjects.length === 0) ? await dataKeys.namespaceDek(ns.name) : undefined;
      try {
        await db.transaction(async (tx) => {
          const allSubjects = values.flatMap((v) => v.subjects);
          const subjectDeks = allSubjects.length ? await dataKeys.lockSubjectDeks(tx, allSubjects) : new Map();
          if (pending.length) {
            const written = await getOrCreate(
              tx,
              ns,
              pending.map((i) => values[i]!),
              nsDek,
            );
            pending.forEach((i, k) => (outcomes[i] = written[k]!));
          }
          await link(tx, ns, values, outcomes, subjectDeks);
          // Mappings this transaction created are invisible to any erasure until it commits.
          if (outcomes.some((o) => !o.created)) validAt = await confirmAnswers(tx, ns, outcomes, seenAt);
          handOver();
          await deps.auditLog.append(tx, events(outcomes));
        });
        // Only values met before enter the cache: a value this flush created is cached when it
        // comes again. A stream of new values would otherwise fill it with values seen once, and
        // emptying it when full would drop the repeated ones with them (and caching them cost ~6%
        // of the CPU of a batch of new values).
        values.forEach((v, i) => {
          if (ns.consistent && v.subjects.length === 0 && !outcomes[i]!.created) cache.set(v.fpHex, outcomes[i]!.token, validAt);
        });
        return outcomes;
      } catch (err) {
        if (attempt < MAX_TX_ATTEMPTS && isRetryable(err)) continue;
        throw err;
      }
    }
  }

  interface Job {
    args: TokenizeArgs;
    plan: RequestPlan;
  }

  /**
   * Concurrent requests for one namespace are merged (mergePlans) and all of them commit together,
   * each with its own audit row. A failure fails every request of that flush, never half of one.
   */
  async function flush(ns: Namespace, jobs: Job[], handOver: () => void): Promise<ValueOutcome[][]> {
    const merged = mergePlans(
      ns,
      jobs.map((job) => job.plan),
    );
    const outcomes = await writeEntries(
      ns,
      merged.values,
      (written) =>
        jobs.map((job, r) =>
          tokenizeAuditEvent({
            requestId: job.args.requestId,
            actor: job.args.principal.id,
            namespace: ns.name,
            plan: job.plan,
            outcomes: settle(merged, r, written),
          }),
        ),
      handOver,
    );
    return jobs.map((_, r) => settle(merged, r, outcomes));
  }

  const batchers = new Map<string, ReturnType<typeof createBatcher<Job, ValueOutcome[]>>>();
  function batcherFor(ns: Namespace) {
    let b = batchers.get(ns.name);
    if (!b) {
      b = createBatcher<Job, ValueOutcome[]>({
        maxJobs: 256,
        // Two flushes write mappings side by side only when there is bulk to write (batches of
        // 1,000: ~29k vs ~21k values/s with two). Small requests write one flush at a time, but a
        // flush hands over once its mappings are written, so the next one's mappings overlap its
        // audit append and commit (single values: 47% vs 42% of the echo, medians of 8 alternating
        // runs in docs/performance.md).
        concurrency: 2,
        parallelWhen: (queued) => queued.reduce((n, job) => n + job.plan.values.length, 0) >= PARALLEL_FLUSH_ENTRIES,
        run: (jobs, handOver) => flush(ns, jobs, handOver),
      });
      batchers.set(ns.name, b);
    }
    return b;
  }

  return {
    async tokenize(args: TokenizeArgs): Promise<TokenizeResult[]> {
      if (!mayAttachSubjects(args.ns, args.principal.id) && args.items.some((item) => item.subject !== undefined)) {
        throw errors.forbidden(
          `namespace ${args.ns.name} does not let this principal link values to subjects (policy: attachSubjects); nothing was stored`,
        );
      }
      const plan = planRequest({ ns: args.ns, items: args.items, onInvalid: args.onInvalid, keyring });
      const outcomes = await batcherFor(args.ns).submit({ args, plan });
      return tokenizeResults(args.items, plan, outcomes);
    },
  };
}

export type Tokenizer = ReturnType<typeof createTokenizer>;

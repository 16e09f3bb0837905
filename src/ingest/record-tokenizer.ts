import { Duplex } from 'node:stream';
import type { TokenizeRequest, VaultClient } from '../client/index.js';
import { bindFormat, FormatError, type BoundFormat, type TokenType } from '../formats/registry.js';
import { parseFieldPolicy, type FieldPolicy, type FieldRule, type InvalidChoice, type PathSegment } from './field-policy.js';

/** One place in a record where a configured path matched. */
export interface Slot {
  readonly value: unknown;
  set(value: string | null): void;
}

/** A record as the tokenizer sees it: an object in memory, or a line of JSON text (tokenize-file). */
export interface RecordView<R> {
  /** Set when the record could not be read at all (a line that is not a JSON object): it is rejected. */
  readonly unreadable?: FieldProblem;
  find(segments: PathSegment[]): Slot[];
  remove(segments: PathSegment[]): void;
  /** The record with every set() and remove() applied. */
  finish(): R;
}

export interface FieldProblem {
  path: string;
  code: string;
  message: string;
}

export interface RecordOutcome<R> {
  /** ok: emit `record`; rejected: an invalid value under onInvalid "reject"; dropped: under "drop". */
  status: 'ok' | 'rejected' | 'dropped';
  /** The tokenized record when ok; the record untouched otherwise (it may hold plaintext). */
  record: R;
  /** Every invalid value met, including the ones nulled (status ok). Codes and paths, never values. */
  problems: FieldProblem[];
}

export const MAX_BATCH = 10_000;
/** The tokenize route's per-value and subject limits: checked here so one oversized value fails alone, not its whole batch. */
const MAX_VALUE_CHARS = 65_536;
const MAX_SUBJECT_CHARS = 256;

/** A value inside a parsed record: a class, not a closure per value (the hot path of a large file). */
class PropertySlot implements Slot {
  constructor(
    readonly value: unknown,
    private readonly owner: Record<string | number, unknown>,
    private readonly key: string | number,
  ) {}
  set(value: string | null): void {
    this.owner[this.key] = value;
  }
}

function walk(node: unknown, segments: PathSegment[], i: number, out: Slot[]): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  const seg = segments[i]!;
  const obj = node as Record<string, unknown>;
  if (!Object.hasOwn(obj, seg.key)) return;
  const last = i === segments.length - 1;
  const child = obj[seg.key];
  if (!seg.each) {
    if (last) out.push(new PropertySlot(child, obj, seg.key));
    else walk(child, segments, i + 1, out);
    return;
  }
  if (!Array.isArray(child)) return;
  for (let j = 0; j < child.length; j++) {
    if (last) out.push(new PropertySlot(child[j], child as unknown as Record<number, unknown>, j));
    else walk(child[j], segments, i + 1, out);
  }
}

class ObjectView<R> implements RecordView<R> {
  private removals: PathSegment[][] | undefined;
  constructor(private readonly record: R) {}
  find(segments: PathSegment[]): Slot[] {
    const out: Slot[] = [];
    walk(this.record, segments, 0, out);
    return out;
  }
  remove(segments: PathSegment[]): void {
    (this.removals ??= []).push(segments);
  }
  finish(): R {
    for (const segments of this.removals ?? []) {
      const owners: Slot[] = [];
      if (segments.length === 1) owners.push(new PropertySlot(this.record, {}, ''));
      else walk(this.record, segments.slice(0, -1), 0, owners);
      const key = segments[segments.length - 1]!.key;
      for (const { value } of owners)
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) delete (value as Record<string, unknown>)[key];
    }
    return this.record;
  }
}

/** A parsed JSON record, changed in place. */
export function objectView<R>(record: R): RecordView<R> {
  return new ObjectView(record);
}

export interface RecordTokenizerOptions {
  client: Pick<VaultClient, 'tokenize'>;
  /** The field policy, or its parts: `fields` maps paths to a type or { type, action, onInvalid }. */
  policy?: FieldPolicy;
  fields?: Record<string, unknown>;
  subject?: string;
  /** Overrides the policy's namespace (default: the vault's "default"). */
  namespace?: string;
  /** Values per tokenize call (1 … 10,000; default 10,000). */
  batchSize?: number;
}

export interface StreamOptions {
  /** Records gathered before a round of calls (default 2,000): values repeat across them, so larger chunks call less. */
  chunkRecords?: number;
  /** Chunks in flight at once (default 2); the client's concurrency limit still applies. */
  chunksInFlight?: number;
}

export interface IterateOptions<R> extends StreamOptions {
  /** How a record is read and changed (default: a parsed JSON value, changed in place). */
  view?: (record: R) => RecordView<R>;
}

export interface RecordTokenizer {
  readonly policy: FieldPolicy;
  /** Tokenizes records in place: each distinct (type, value, subject) is sent once. */
  tokenize<R>(records: R[]): Promise<RecordOutcome<R>[]>;
  /** The same over views (tokenize-file uses text views that keep every other byte of a line). */
  tokenizeViews<R>(views: RecordView<R>[]): Promise<RecordOutcome<R>[]>;
  /** Outcomes in input order, with backpressure: no more than chunksInFlight chunks are read ahead. */
  iterate<R>(source: AsyncIterable<R> | Iterable<R>, opts?: IterateOptions<R>): AsyncGenerator<RecordOutcome<R>>;
  /** An object-mode Duplex for stream.pipeline: records in, outcomes out. */
  stream(opts?: StreamOptions): Duplex;
}

interface RecordState {
  problems: FieldProblem[];
  fail: InvalidChoice | undefined;
  slots: Slot[];
  values: (string | null)[];
}

interface Use {
  rec: number;
  rule: FieldRule;
  slot: Slot;
}

export function createRecordTokenizer(opts: RecordTokenizerOptions): RecordTokenizer {
  const base = opts.policy ?? parseFieldPolicy({ fields: opts.fields, ...(opts.subject ? { subject: opts.subject } : {}) });
  const policy: FieldPolicy = { ...base, namespace: opts.namespace ?? base.namespace };
  const drops = policy.fields.filter((f) => f.action === 'drop');
  const batchSize = opts.batchSize ?? MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw new RangeError(`batchSize must be 1 to ${MAX_BATCH}`);
  // Masks use each type's default options: the mask is computed here, the vault is never called.
  const masks = new Map<TokenType, BoundFormat>();
  const maskFormat = (t: TokenType) => masks.get(t) ?? masks.set(t, bindFormat(t)).get(t)!;

  async function tokenizeViews<R>(views: RecordView<R>[]): Promise<RecordOutcome<R>[]> {
    // Per record: what to write once every value is known (data, not closures: see PropertySlot).
    const states = views.map((): RecordState => ({ problems: [], fail: undefined, slots: [], values: [] }));
    const write = (rec: number, slot: Slot, value: string | null) => {
      states[rec]!.slots.push(slot);
      states[rec]!.values.push(value);
    };
    const invalid = (rec: number, rule: Pick<FieldRule, 'path' | 'onInvalid'>, slot: Slot | undefined, code: string, message: string) => {
      const st = states[rec]!;
      st.problems.push({ path: rule.path, code, message });
      if (rule.onInvalid === 'null' && slot) write(rec, slot, null);
      // reject wins over drop: a rejected record is reported, a dropped one only counted.
      else if (rule.onInvalid === 'reject' || !slot) st.fail = 'reject';
      else st.fail ??= 'drop';
    };
    const unique = new Map<string, { item: TokenizeRequest['items'][number]; uses: Use[] }>();

    views.forEach((view, rec) => {
      if (view.unreadable) {
        states[rec]!.problems.push(view.unreadable);
        states[rec]!.fail = 'reject';
        return;
      }
      let subject: string | undefined;
      if (policy.subject) {
        const found = view.find(policy.subject.segments)[0]?.value;
        // Numeric ids are common (user.id: 42): the vault keys subjects by text, so 42 is "42".
        const s = typeof found === 'number' && Number.isSafeInteger(found) ? String(found) : found;
        if (typeof s === 'string' && s.length > 0 && s.length <= MAX_SUBJECT_CHARS && !s.includes('\u0000')) subject = s;
        else if (s !== undefined && s !== null)
          return invalid(
            rec,
            { path: policy.subject.path, onInvalid: 'reject' },
            undefined,
            'INVALID_SUBJECT',
            `the subject must be a string of 1 to ${MAX_SUBJECT_CHARS} characters`,
          );
      }
      for (const rule of policy.fields) {
        if (rule.action === 'drop') continue;
        const type = rule.type!;
        for (const slot of view.find(rule.segments)) {
          const value = slot.value;
          if (value === null || value === undefined) continue;
          if (typeof value !== 'string') {
            invalid(rec, rule, slot, 'INVALID_TYPE', `${type} values must be JSON strings`);
            continue;
          }
          if (rule.action === 'mask') {
            try {
              const f = maskFormat(type);
              write(rec, slot, f.mask(f.normalize(value)));
            } catch (err) {
              if (!(err instanceof FormatError)) throw err;
              invalid(rec, rule, slot, err.code, err.message);
            }
            continue;
          }
          if (value.length > MAX_VALUE_CHARS && [...value].length > MAX_VALUE_CHARS) {
            invalid(rec, rule, slot, 'VALUE_TOO_LONG', `values are at most ${MAX_VALUE_CHARS} characters`);
            continue;
          }
          // Type and subject hold no NUL, so this key is unambiguous.
          const key = `${type}\u0000${subject ?? ''}\u0000${value}`;
          let entry = unique.get(key);
          if (!entry) unique.set(key, (entry = { item: { type, value, ...(subject !== undefined ? { subject } : {}) }, uses: [] }));
          entry.uses.push({ rec, rule, slot });
        }
      }
    });

    const entries = [...unique.values()];
    const batches: (typeof entries)[] = [];
    for (let i = 0; i < entries.length; i += batchSize) batches.push(entries.slice(i, i + batchSize));
    await Promise.all(
      batches.map(async (batch) => {
        const { results } = await opts.client.tokenize({
          ...(policy.namespace ? { namespace: policy.namespace } : {}),
          items: batch.map((e) => e.item),
          onInvalid: 'skip',
        });
        results.forEach((r, i) => {
          for (const use of batch[i]!.uses) {
            const token = r.token;
            if (token !== undefined) write(use.rec, use.slot, token);
            else invalid(use.rec, use.rule, use.slot, r.error?.code ?? 'INVALID_VALUE', r.error?.message ?? 'the vault refused this value');
          }
        });
      }),
    );

    return views.map((view, rec) => {
      const st = states[rec]!;
      // A failed record gets none of its writes: it comes back as it was.
      if (st.fail) return { status: st.fail === 'drop' ? 'dropped' : 'rejected', record: view.finish(), problems: st.problems };
      st.slots.forEach((slot, i) => slot.set(st.values[i]!));
      for (const rule of drops) view.remove(rule.segments);
      return { status: 'ok', record: view.finish(), problems: st.problems };
    });
  }

  async function* iterate<R>(source: AsyncIterable<R> | Iterable<R>, s: IterateOptions<R> = {}): AsyncGenerator<RecordOutcome<R>> {
    const chunkRecords = s.chunkRecords ?? 2_000;
    const inFlight = s.chunksInFlight ?? 2;
    const queue: Promise<RecordOutcome<R>[]>[] = [];
    const start = (chunk: R[]) => {
      const p = tokenizeViews(chunk.map(s.view ?? ((r) => objectView(r))));
      p.catch(() => undefined); // awaited in order below; this only keeps a later chunk's failure from going unhandled meanwhile
      queue.push(p);
    };
    let chunk: R[] = [];
    for await (const record of source) {
      chunk.push(record);
      if (chunk.length < chunkRecords) continue;
      start(chunk);
      chunk = [];
      if (queue.length >= inFlight) yield* await queue.shift()!;
    }
    if (chunk.length) start(chunk);
    while (queue.length) yield* await queue.shift()!;
  }

  return {
    policy,
    tokenize: (records) => tokenizeViews(records.map((r) => objectView(r))),
    tokenizeViews,
    iterate,
    stream: (s) =>
      Duplex.from(async function* (source: AsyncIterable<unknown>) {
        yield* iterate(source, s);
      }),
  };
}

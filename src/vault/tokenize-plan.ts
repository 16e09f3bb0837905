import type { AuditEvent } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { errors } from '../errors.js';
import { FormatError, type TokenType } from '../formats/registry.js';
import type { Namespace } from './policy.js';

/**
 * The pure half of tokenizing: what to write, and what to answer once it is written. No I/O, no
 * state: the executor (tokenize.ts) runs the plan against the database.
 */

export interface TokenizeItem {
  type: TokenType;
  value: string;
  subject?: string | undefined;
}

export type TokenizeResult =
  { token: string; type: TokenType; created: boolean } | { index: number; error: { code: string; message: string } };

/** One distinct value to write (items of a request with the same fingerprint share one). */
export interface PlannedValue {
  fp: Buffer;
  /** The fingerprint in hex: the key values are matched, sorted and cached by. */
  fpHex: string;
  type: TokenType;
  normalized: string;
  /** Subject HMACs to link the value to, in the order they were asked for. */
  subjects: Buffer[];
}

/** What the database holds for a planned value after the write. */
export interface ValueOutcome {
  token: string;
  /** Undefined when the token came from the cache (a value without subjects: nothing to link). */
  mappingId: number | undefined;
  /** True when the write created the mapping (for the request that asked for it first). */
  created: boolean;
}

export interface RequestPlan {
  values: PlannedValue[];
  /** For each item, the index of its value in `values`; undefined for an invalid item. */
  itemValue: (number | undefined)[];
  problems: { index: number; code: string; message: string }[];
}

/**
 * Normalizes and fingerprints the items of one request and dedupes them: in a consistent namespace
 * equal values share one planned value; in a random-token namespace every item is its own (no two
 * calls share a token). Throws VALIDATION_FAILED when an item is invalid and onInvalid is reject.
 */
export function planRequest(args: {
  ns: Namespace;
  items: TokenizeItem[];
  onInvalid: 'reject' | 'skip';
  keyring: Pick<Keyring, 'fingerprint' | 'subjectHmac'>;
}): RequestPlan {
  const { ns, items, keyring } = args;
  const byFingerprint = new Map<string, number>();
  const values: PlannedValue[] = [];
  const itemValue: (number | undefined)[] = new Array(items.length);
  const problems: RequestPlan['problems'] = [];
  items.forEach((item, index) => {
    let normalized: string;
    try {
      normalized = ns.formats[item.type].normalize(item.value);
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      problems.push({ index, code: err.code, message: err.message });
      return;
    }
    const fp = keyring.fingerprint(ns.name, item.type, normalized);
    const fpHex = fp.toString('hex');
    let i = ns.consistent ? byFingerprint.get(fpHex) : undefined;
    if (i === undefined) {
      i = values.push({ fp, fpHex, type: item.type, normalized, subjects: [] }) - 1;
      if (ns.consistent) byFingerprint.set(fpHex, i);
    }
    if (item.subject !== undefined) values[i]!.subjects.push(keyring.subjectHmac(item.subject));
    itemValue[index] = i;
  });
  if (problems.length && args.onInvalid === 'reject') {
    throw errors.validation(`${problems.length} item(s) are invalid; nothing was stored`, { items: problems });
  }
  return { values, itemValue, problems };
}

/** Several requests' values as one write: `slots[r][v]` is where request r's value v went. */
export interface MergedPlan {
  values: PlannedValue[];
  slots: number[][];
  /** For each merged value, the request that asked for it first. */
  owner: number[];
}

/**
 * Concurrent requests for one namespace are merged: equal values (consistent namespaces only)
 * share one merged value, whose subjects are every request's, the first request's first. The
 * first request to ask is the one for which the value is "created".
 */
export function mergePlans(ns: Namespace, plans: RequestPlan[]): MergedPlan {
  const values: PlannedValue[] = [];
  const owner: number[] = [];
  const byFingerprint = new Map<string, number>();
  const slots = plans.map((plan, r) =>
    plan.values.map((v) => {
      const known = ns.consistent ? byFingerprint.get(v.fpHex) : undefined;
      if (known !== undefined) {
        values[known]!.subjects.push(...v.subjects);
        return known;
      }
      const i = values.push({ ...v, subjects: [...v.subjects] }) - 1;
      owner.push(r);
      if (ns.consistent) byFingerprint.set(v.fpHex, i);
      return i;
    }),
  );
  return { values, slots, owner };
}

/** Request r's outcomes: a value merged into another request's is, for r, an existing one. */
export function settle(merged: MergedPlan, r: number, outcomes: ValueOutcome[]): ValueOutcome[] {
  return merged.slots[r]!.map((i) => {
    const o = outcomes[i]!;
    return merged.owner[i] === r ? o : { ...o, created: false };
  });
}

/** The response, in item order: a token for each valid item, an error in place for a skipped one. */
export function tokenizeResults(items: TokenizeItem[], plan: RequestPlan, outcomes: ValueOutcome[]): TokenizeResult[] {
  const results: TokenizeResult[] = new Array(items.length);
  for (const p of plan.problems) results[p.index] = { index: p.index, error: { code: p.code, message: p.message } };
  items.forEach((item, i) => {
    const v = plan.itemValue[i];
    if (v !== undefined) results[i] = { token: outcomes[v]!.token, type: item.type, created: outcomes[v]!.created };
  });
  return results;
}

/** The request's audit row: counts per type of distinct values created and existing, never values. */
export function tokenizeAuditEvent(args: {
  requestId: string;
  actor: string;
  namespace: string;
  plan: RequestPlan;
  outcomes: ValueOutcome[];
}): AuditEvent {
  const counts: Record<string, { created: number; existing: number }> = {};
  args.plan.values.forEach((v, i) => {
    const c = (counts[v.type] ??= { created: 0, existing: 0 });
    if (args.outcomes[i]!.created) c.created++;
    else c.existing++;
  });
  const invalid = args.plan.problems.length;
  return {
    requestId: args.requestId,
    actor: args.actor,
    action: 'tokenize',
    outcome: 'success',
    namespace: args.namespace,
    details: { counts, ...(invalid ? { skipped: invalid } : {}) },
  };
}

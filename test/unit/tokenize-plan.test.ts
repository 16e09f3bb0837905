import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeyring } from '../../src/crypto/keyring.js';
import { createPooledRandom } from '../../src/crypto/random.js';
import { AppError } from '../../src/errors.js';
import { buildPolicy } from '../../src/vault/policy.js';
import {
  mergePlans,
  planRequest,
  settle,
  tokenizeAuditEvent,
  tokenizeResults,
  type TokenizeItem,
  type ValueOutcome,
} from '../../src/vault/tokenize-plan.js';

const keyring = createKeyring({ masterKeys: new Map([[1, randomBytes(32)]]), fingerprintKey: randomBytes(32), rng: createPooledRandom() });
const policy = buildPolicy({ namespaces: { default: {}, rnd: { consistent: false } } });
const consistent = policy.get('default')!;
const random = policy.get('rnd')!;
const plan = (items: TokenizeItem[], ns = consistent, onInvalid: 'reject' | 'skip' = 'skip') =>
  planRequest({ ns, items, onInvalid, keyring });
const written = (n: number, created = true): ValueOutcome[] =>
  Array.from({ length: n }, (_, i) => ({ token: `t${i}`, mappingId: i + 1, created }));

describe('planRequest', () => {
  it('dedupes equal values (after normalization) in a consistent namespace, keeping every subject', () => {
    const p = plan([
      { type: 'email', value: 'Ann@Example.com', subject: 's1' },
      { type: 'email', value: 'ann@example.com', subject: 's2' },
      { type: 'email', value: 'bob@example.com' },
    ]);
    expect(p.values).toHaveLength(2);
    expect(p.itemValue).toEqual([0, 0, 1]);
    expect(p.values[0]!.subjects).toEqual([keyring.subjectHmac('s1'), keyring.subjectHmac('s2')]);
    expect(p.values[0]!.fpHex).toBe(keyring.fingerprint('default', 'email', p.values[0]!.normalized).toString('hex'));
  });

  it('keeps every item apart in a random namespace, and fpHex is still the fingerprint', () => {
    const p = plan(
      [
        { type: 'email', value: 'ann@example.com' },
        { type: 'email', value: 'ann@example.com' },
      ],
      random,
    );
    expect(p.itemValue).toEqual([0, 1]);
    expect(p.values[0]!.fpHex).toBe(p.values[1]!.fpHex);
    expect(p.values[0]!.fpHex).toBe(keyring.fingerprint('rnd', 'email', 'ann@example.com').toString('hex'));
  });

  it('skips invalid items with their problem, or rejects the whole request', () => {
    const items: TokenizeItem[] = [
      { type: 'email', value: 'ann@example.com' },
      { type: 'email', value: 'not an email' },
    ];
    const p = plan(items);
    expect(p.itemValue).toEqual([0, undefined]);
    expect(p.problems).toEqual([{ index: 1, code: expect.any(String), message: expect.any(String) }]);
    expect(() => plan(items, consistent, 'reject')).toThrow(AppError);
    try {
      plan(items, consistent, 'reject');
    } catch (err) {
      expect((err as AppError).statusCode).toBe(400);
      expect((err as AppError).details).toEqual({ items: p.problems });
    }
  });
});

describe('mergePlans and settle', () => {
  it('shares equal values across requests; only the first request to ask sees created', () => {
    const a = plan([{ type: 'email', value: 'ann@example.com', subject: 'sa' }]);
    const b = plan([
      { type: 'email', value: 'bob@example.com' },
      { type: 'email', value: 'ann@example.com', subject: 'sb' },
    ]);
    const merged = mergePlans(consistent, [a, b]);
    expect(merged.values).toHaveLength(2);
    expect(merged.slots).toEqual([[0], [1, 0]]);
    expect(merged.owner).toEqual([0, 1]);
    expect(merged.values[0]!.subjects).toEqual([keyring.subjectHmac('sa'), keyring.subjectHmac('sb')]);
    // The requests' own plans are left as they were.
    expect(a.values[0]!.subjects).toHaveLength(1);
    const outcomes = written(2);
    expect(settle(merged, 0, outcomes)).toEqual([{ token: 't0', mappingId: 1, created: true }]);
    expect(settle(merged, 1, outcomes)).toEqual([
      { token: 't1', mappingId: 2, created: true },
      { token: 't0', mappingId: 1, created: false },
    ]);
  });

  it('never merges values of a random namespace', () => {
    const items: TokenizeItem[] = [{ type: 'email', value: 'ann@example.com' }];
    const merged = mergePlans(random, [plan(items, random), plan(items, random)]);
    expect(merged.values).toHaveLength(2);
    expect(merged.slots).toEqual([[0], [1]]);
  });

  it('property: every request gets one outcome per value, each the outcome of the merged value it went to', () => {
    const emails = fc.constantFrom('a@x.io', 'b@x.io', 'c@x.io', 'd@x.io');
    const request = fc.array(fc.record({ value: emails, subject: fc.option(fc.constantFrom('s1', 's2'), { nil: undefined }) }), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 5 }), fc.boolean(), (requests, isConsistent) => {
        const ns = isConsistent ? consistent : random;
        const plans = requests.map((items) =>
          plan(
            items.map((i) => ({ type: 'email' as const, ...i })),
            ns,
          ),
        );
        const merged = mergePlans(ns, plans);
        const outcomes = written(merged.values.length);
        const subjects = plans.reduce((n, p) => n + p.values.reduce((m, v) => m + v.subjects.length, 0), 0);
        expect(merged.values.reduce((n, v) => n + v.subjects.length, 0)).toBe(subjects);
        plans.forEach((p, r) => {
          const mine = settle(merged, r, outcomes);
          expect(mine).toHaveLength(p.values.length);
          mine.forEach((o, v) => {
            expect(o.token).toBe(outcomes[merged.slots[r]![v]!]!.token);
            expect(merged.values[merged.slots[r]![v]!]!.fpHex).toBe(p.values[v]!.fpHex);
          });
        });
        // A value is created for exactly one request.
        const createdFor = merged.values.map(
          (_, i) => plans.filter((_, r) => settle(merged, r, outcomes).some((o, v) => o.created && merged.slots[r]![v] === i)).length,
        );
        expect(createdFor.every((n) => n === 1)).toBe(true);
      }),
    );
  });
});

describe('tokenizeResults and tokenizeAuditEvent', () => {
  it('answers in item order, errors in place, and counts distinct values per type', () => {
    const items: TokenizeItem[] = [
      { type: 'email', value: 'ann@example.com' },
      { type: 'email', value: 'bad' },
      { type: 'email', value: 'ann@example.com' },
      { type: 'ipv4', value: '10.0.0.1' },
    ];
    const p = plan(items);
    const outcomes: ValueOutcome[] = [
      { token: 'e1', mappingId: 1, created: false },
      { token: 'i1', mappingId: 2, created: true },
    ];
    expect(tokenizeResults(items, p, outcomes)).toEqual([
      { token: 'e1', type: 'email', created: false },
      { index: 1, error: { code: p.problems[0]!.code, message: p.problems[0]!.message } },
      { token: 'e1', type: 'email', created: false },
      { token: 'i1', type: 'ipv4', created: true },
    ]);
    expect(tokenizeAuditEvent({ requestId: 'r1', actor: 'c1', namespace: 'default', plan: p, outcomes })).toEqual({
      requestId: 'r1',
      actor: 'c1',
      action: 'tokenize',
      outcome: 'success',
      namespace: 'default',
      details: { counts: { email: { created: 0, existing: 1 }, ipv4: { created: 1, existing: 0 } }, skipped: 1 },
    });
  });
});

import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS } from '../../src/config.js';
import type { Receipt } from '../../src/vault/erase.js';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { bearer, startInstances, type TestVault } from '../helpers/vault.js';

// Random interleavings of tokenize (with or without a subject: that links), erase-subject,
// erase-token and re-tokenize over a small pool of values and subjects, on two vault instances
// sharing one PostgreSQL database, each step checked against a model of what must hold.

const VALUES = 4;
const SUBJECTS = 3;

type Op =
  | { kind: 'tokenize'; on: number; value: number; subject: number | null }
  | { kind: 'eraseSubject'; on: number; subject: number }
  | { kind: 'eraseToken'; on: number; value: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('tokenize' as const),
      on: fc.nat(1),
      value: fc.nat(VALUES - 1),
      subject: fc.option(fc.nat(SUBJECTS - 1), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('eraseSubject' as const), on: fc.nat(1), subject: fc.nat(SUBJECTS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('eraseToken' as const), on: fc.nat(1), value: fc.nat(VALUES - 1) }) },
);

describe.runIf(usingPostgres)('erasure under random interleavings, two instances', () => {
  let db: TestDatabase;
  let vaults: TestVault[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ backend: 'postgres' });
    vaults = await startInstances(db, 2, { access: { ...DEFAULT_ACCESS, revealBudget: 1_000_000_000 } });
  });
  afterAll(async () => {
    for (const v of vaults) await v.close();
    await db.drop();
  });

  it('no erased token comes back; every issued token reads or answers erased; held values stay readable; the feed lists exactly the erased', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        // Each run has its own values and subjects, so runs share the database without meeting.
        const run = randomBytes(4).toString('hex');
        const value = (i: number) => `p${run}-${i}@example.com`;
        const subject = (i: number) => `s${run}-${i}`;
        /** The live mapping of each value: its token and the subjects that hold it. */
        const live = new Map<number, { token: string; holders: Set<number> }>();
        const erased = new Set<string>();
        const issued = new Map<string, number>();

        for (const op of ops) {
          const v = vaults[op.on]!;
          if (op.kind === 'tokenize') {
            const item = { type: 'email', value: value(op.value), ...(op.subject === null ? {} : { subject: subject(op.subject) }) };
            const res = await v.app.inject({
              method: 'POST',
              url: '/v1/tokenize',
              headers: bearer(v.token('tokenize')),
              payload: { items: [item] },
            });
            expect(res.statusCode, res.body).toBe(200);
            const { token, created } = res.json().results[0] as { token: string; created: boolean };
            expect(erased.has(token), `erased token ${token} handed out again`).toBe(false);
            const before = live.get(op.value);
            expect({ token: before ? token : 'new', created }).toEqual({ token: before?.token ?? 'new', created: !before });
            const m = before ?? { token, holders: new Set<number>() };
            if (op.subject !== null) m.holders.add(op.subject);
            live.set(op.value, m);
            issued.set(token, op.value);
          } else {
            const body =
              op.kind === 'eraseSubject'
                ? { subject: subject(op.subject) }
                : { tokens: [live.get(op.value)?.token ?? `absent${run}@example.com`] };
            const res = await v.app.inject({ method: 'POST', url: '/v1/erasures', headers: bearer(v.token('erase')), payload: body });
            expect(res.statusCode, res.body).toBe(201);
            const receipt = res.json() as Receipt;
            const gone: string[] = [];
            let retained = 0;
            for (const [i, m] of live) {
              const reached = op.kind === 'eraseSubject' ? m.holders.has(op.subject) : i === op.value;
              if (!reached) continue;
              if (op.kind === 'eraseSubject' && m.holders.size > 1) {
                m.holders.delete(op.subject);
                retained++;
                continue;
              }
              gone.push(m.token);
              erased.add(m.token);
              live.delete(i);
            }
            expect(receipt.tokens.map((t) => t.token).sort()).toEqual(gone.sort());
            expect(receipt.counts).toMatchObject({ erased: gone.length, retainedShared: retained });
          }
          await checkInvariants();
        }

        async function checkInvariants() {
          const tokens = [...issued.keys()];
          for (const v of tokens.length ? vaults : []) {
            const res = await v.app.inject({
              method: 'POST',
              url: '/v1/detokenize',
              headers: bearer(v.token('detokenize:plain:*')),
              payload: { tokens, purpose: 'PROPERTY' },
            });
            expect(res.statusCode, res.body).toBe(200);
            const got = (res.json().results as { token: string; status: string; value?: string }[]).map((r) => [
              r.token,
              r.status,
              r.value ?? null,
            ]);
            expect(got).toEqual(tokens.map((t) => [t, erased.has(t) ? 'erased' : 'ok', erased.has(t) ? null : value(issued.get(t)!)]));
          }
          for (let s = 0; s < SUBJECTS; s++) {
            const v = vaults[s % 2]!;
            const res = await v.app.inject({
              method: 'POST',
              url: '/v1/subjects/export',
              headers: bearer(v.token('subjects:export detokenize:plain:*')),
              payload: { subject: subject(s), purpose: 'PROPERTY' },
            });
            expect(res.statusCode, res.body).toBe(200);
            const held = [...live.entries()].filter(([, m]) => m.holders.has(s)).map(([i, m]) => [m.token, value(i)]);
            expect((res.json().tokens as { token: string; value: string }[]).map((t) => [t.token, t.value]).sort()).toEqual(held.sort());
          }
          const feed = await vaults[1]!.app.inject({
            url: '/v1/erasures?after=0&limit=1000',
            headers: bearer(vaults[1]!.token('erasures:read')),
          });
          expect(feed.statusCode, feed.body).toBe(200);
          const listed = (feed.json().events as { tokens: { token: string }[] }[])
            .flatMap((e) => e.tokens.map((t) => t.token))
            .filter((t) => issued.has(t));
          expect(listed.sort()).toEqual([...erased].sort());
        }
      }),
      { numRuns: 20 },
    );
    // 20 runs of up to 14 steps, each step ~8 requests: ~15 s on an idle machine.
  }, 180_000);
});

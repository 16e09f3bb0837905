import type { AuditEvent } from '../audit/audit-log.js';
import { decrypt } from '../crypto/aead.js';
import { DecryptionFailedError } from '../crypto/errors.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import type { ErasuresRepository } from '../db/repositories/erasures-repository.js';
import type { MappingsRepository, StoredValue } from '../db/repositories/mappings-repository.js';
import { isTokenType } from '../formats/registry.js';
import type { AuditWriter } from './audit-writer.js';
import { createBatcher } from './batcher.js';
import type { DataKeys } from './data-keys.js';
import type { Namespace } from './policy.js';
import { maxRevealLevel, type Principal, type RevealLevel } from './principal.js';

export type DetokenizeStatus = 'ok' | 'not_found' | 'erased' | 'forbidden';
export interface DetokenizeResult {
  token: string;
  status: DetokenizeStatus;
  type?: string;
  value?: string;
  reveal?: RevealLevel;
}

/** The bench's lookup ceiling runs this statement: re-exported where it always was. */
export { FIND_BY_TOKEN_SQL } from '../db/repositories/mappings-repository.js';

interface Lookup {
  byToken: Map<string, StoredValue>;
  erased: Set<string>;
}

export function createDetokenizer(deps: {
  mappings: MappingsRepository;
  erasures: ErasuresRepository;
  dataKeys: DataKeys;
  audit: AuditWriter;
  keyring: Keyring;
}) {
  const { mappings, erasures, dataKeys } = deps;

  /** Concurrent requests for one namespace share one lookup query (and one tombstone query). */
  const lookups = new Map<string, ReturnType<typeof createBatcher<string[], Lookup>>>();
  function lookupFor(ns: string) {
    let b = lookups.get(ns);
    if (!b) {
      b = createBatcher<string[], Lookup>({
        maxJobs: 64,
        // Read-only: more lookups in flight cost no lock.
        concurrency: 4,
        async run(jobs) {
          const all = [...new Set(jobs.flat())];
          const found = await mappings.findByToken({ namespace: ns, tokens: all });
          const byToken = new Map(found.map((r) => [r.token, r]));
          const missing = all.filter((t) => !byToken.has(t));
          const erased = new Set(missing.length ? await erasures.erasedTokens({ namespace: ns, tokens: missing }) : []);
          return jobs.map(() => ({ byToken, erased }));
        },
      });
      lookups.set(ns, b);
    }
    return b;
  }

  return {
    async detokenize(args: {
      principal: Principal;
      ns: Namespace;
      tokens: string[];
      purpose: string;
      reveal?: RevealLevel;
      requestId: string;
    }): Promise<DetokenizeResult[]> {
      const { ns, principal } = args;
      const unique = [...new Set(args.tokens)];
      const { byToken, erased } = await lookupFor(ns.name).submit(unique);
      const plan = new Map<string, { status: DetokenizeStatus; type?: string; level?: RevealLevel }>();
      for (const token of unique) {
        const r = byToken.get(token);
        if (!r) {
          plan.set(token, { status: erased.has(token) ? 'erased' : 'not_found' });
          continue;
        }
        const max = maxRevealLevel(principal, r.type);
        const level: RevealLevel | null = args.reveal === 'plain' ? (max === 'plain' ? 'plain' : null) : max && (args.reveal ?? max);
        plan.set(token, level ? { status: 'ok', type: r.type, level } : { status: 'forbidden', type: r.type });
      }

      const revealing = [...plan.entries()].filter(([, p]) => p.status === 'ok');
      // A mapping with no copy at all would be a broken row: fail closed, as for a missing key.
      if (revealing.some(([t]) => !byToken.get(t)!.dekId)) throw new DecryptionFailedError();
      const keys = await dataKeys.keysById(revealing.map(([t]) => byToken.get(t)!.dekId!));
      const values = new Map<string, string>();
      for (const [token, p] of revealing) {
        const r = byToken.get(token)!;
        if (!isTokenType(r.type) || !r.ciphertext) throw new DecryptionFailedError();
        const plain = decrypt(keys.get(r.dekId!)!, r.ciphertext, valueAad(ns.name, r.type, token)).toString('utf8');
        values.set(token, p.level === 'masked' ? ns.formats[r.type].mask(plain) : plain);
      }

      // The budget and the audit rows commit together, before any value leaves: if either fails,
      // nothing is revealed. Concurrent requests share that commit.
      const events: AuditEvent[] = unique.map((token) => {
        const p = plan.get(token)!;
        return {
          requestId: args.requestId,
          actor: principal.id,
          action: 'detokenize',
          outcome: p.status,
          namespace: ns.name,
          purpose: args.purpose,
          // A token the vault never issued is caller input that could be anything (an email pasted by
          // mistake): only its keyed HMAC is recorded.
          details:
            p.status === 'not_found'
              ? { tokenHmac: deps.keyring.unknownTokenHmac(token).toString('hex') }
              : { token, ...(p.type ? { type: p.type } : {}), ...(p.level ? { reveal: p.level } : {}) },
        };
      });
      await deps.audit.commit({
        events,
        ...(revealing.length
          ? {
              reveal: {
                principal,
                count: revealing.length,
                refusedEvent: {
                  requestId: args.requestId,
                  actor: principal.id,
                  action: 'detokenize',
                  outcome: 'budget_exceeded',
                  namespace: ns.name,
                  purpose: args.purpose,
                  details: { tokens: unique.length },
                },
              },
            }
          : {}),
      });

      return args.tokens.map((token) => {
        const p = plan.get(token)!;
        const out: DetokenizeResult = { token, status: p.status };
        if (p.type) out.type = p.type;
        if (p.status === 'ok') {
          out.value = values.get(token)!;
          out.reveal = p.level!;
        }
        return out;
      });
    },
  };
}

export type Detokenizer = ReturnType<typeof createDetokenizer>;

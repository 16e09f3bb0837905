import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { canonicalJson, type Signer } from '../crypto/signing.js';
import { pgErrorCode, type Db, type Executor } from '../db/client.js';
import type { ErasuresRepository, TombstonedToken } from '../db/repositories/erasures-repository.js';
import type { SubjectLinksRepository } from '../db/repositories/subject-links-repository.js';
import { errors } from '../errors.js';
import { FormatError, type TokenType } from '../formats/registry.js';
import type { RandomSource } from '../crypto/random.js';
import type { DataKeys } from './data-keys.js';
import { handOverLegacyCopies, type LegacyRow } from './legacy-copies.js';
import type { Namespace } from './policy.js';
import type { Principal } from './principal.js';

export type ErasureTarget =
  | { method: 'subject'; subject: string }
  | { method: 'value'; ns: Namespace; type: TokenType; value: string }
  | { method: 'tokens'; ns: Namespace; tokens: string[] };

/** An erasure as asked for: a namespace by name, not yet checked. */
export type ErasureRequest =
  | { subject: string }
  | { namespace?: string | undefined; type: TokenType; value: string }
  | { namespace?: string | undefined; tokens: string[] };

export type ErasedToken = TombstonedToken;

/** Receipt format version 1 (erasures made before shared values were kept): still served as stored. */
export interface ReceiptV1 {
  version: 1;
  erasureId: string;
  status: 'completed';
  method: ErasureTarget['method'];
  reference: string | null;
  requestedAt: string;
  completedAt: string;
  tokensErased: number;
  tokens: ErasedToken[];
  keyId: string;
  signature: string;
}

/**
 * Receipt format version 2. The signature covers canonicalJson(receipt without `signature`).
 * `scope` says whom the erasure reached: `subject` (what was that subject's alone; values other
 * subjects also hold were only unlinked from it) or `everyone` (by value or token: the mappings
 * are gone for every subject). `reason` is present exactly when nothing was erased.
 */
export interface Receipt {
  version: 2;
  erasureId: string;
  status: 'completed';
  method: ErasureTarget['method'];
  scope: 'subject' | 'everyone';
  reference: string | null;
  requestedAt: string;
  completedAt: string;
  tokensErased: number;
  tokens: ErasedToken[];
  counts: { erased: number; retainedShared: number; alreadyAbsent: number };
  reason?: string;
  keyId: string;
  signature: string;
}

export type StoredReceipt = Receipt | ReceiptV1;

interface Outcome {
  erased: ErasedToken[];
  retainedShared: number;
  alreadyAbsent: number;
}

const NOTHING_ERASED: Record<ErasureTarget['method'], (o: Outcome) => string> = {
  subject: (o) =>
    o.retainedShared
      ? 'every value held for this subject is also held by other subjects: it was only unlinked from this subject'
      : 'nothing is held for this subject (never tokenized with it, or already erased)',
  value: () => 'no mapping holds this value in this namespace (never tokenized, or already erased)',
  tokens: () => 'none of these tokens has a mapping (never issued here, or already erased)',
};

/** Deadlock with a tokenize batch or another erasure, broken by PostgreSQL: run the erasure again. */
const MAX_TX_ATTEMPTS = 3;

export function receiptSigningInput(r: Omit<StoredReceipt, 'signature'> | StoredReceipt): Buffer {
  const { signature: _s, ...unsigned } = r as StoredReceipt;
  return Buffer.from(canonicalJson(unsigned));
}

export function createEraser(deps: {
  db: Db;
  keyring: Keyring;
  signer: Signer;
  repo: ErasuresRepository;
  subjectLinks: SubjectLinksRepository;
  dataKeys: DataKeys;
  rng: RandomSource;
  auditLog: AuditLog;
  onErased: (seq: number) => void;
}) {
  const { db, keyring, signer, repo } = deps;
  const keyId = signer.publicJwk().kid;

  /** Deletes what the target reaches, writes its tombstones, and says what it did. */
  async function deleteMappings(tx: Executor, target: ErasureTarget, erasureId: string, at: Date): Promise<Outcome> {
    const run = async (scope: Parameters<typeof repo.tombstone>[0]['scope']) => {
      const found = await repo.tombstone({ tx, erasureId, at, scope });
      const erased = found.filter((r): r is ErasedToken => r.token !== null);
      return { erased, retainedShared: found.length - erased.length };
    };
    switch (target.method) {
      case 'subject': {
        const hmac = keyring.subjectHmac(target.subject);
        // Lock the subject's key first, in its own statement: a tokenize writing under it holds it
        // FOR SHARE, so this waits for that write to commit, and the next statement's snapshot sees
        // (and deletes) its mappings; a tokenize that comes later waits, then creates a fresh key.
        const key = await repo.lockSubjectKey({ tx, subjectHmac: hmac });
        // Then its mappings, in id order (tokenize links in that order): a tokenize linking another
        // subject to one of them holds it (FOR KEY SHARE) until it commits, so the next statement
        // sees that link and keeps the value for that subject instead of erasing it.
        const locked = await repo.lockSubjectMappings({ tx, subjectHmac: hmac, keyId: key?.id ?? null });
        const legacy = locked.filter((r): r is LegacyRow & { legacy: boolean } => r.legacy && r.ciphertext !== null);
        if (key && legacy.length) await handOverLegacyCopies(tx, deps, { hmac, key }, legacy);
        return { ...(await run({ method: 'subject', subjectHmac: hmac })), alreadyAbsent: 0 };
      }
      case 'value': {
        let normalized: string;
        try {
          normalized = target.ns.formats[target.type].normalize(target.value);
        } catch (err) {
          if (err instanceof FormatError) throw errors.validation(`value is not a valid ${target.type}: ${err.message}`);
          throw err;
        }
        const { erased } = await run({
          method: 'value',
          namespace: target.ns.name,
          fingerprint: keyring.fingerprint(target.ns.name, target.type, normalized),
        });
        return { erased, retainedShared: 0, alreadyAbsent: erased.length ? 0 : 1 };
      }
      case 'tokens': {
        const { erased } = await run({ method: 'tokens', namespace: target.ns.name, tokens: target.tokens });
        return { erased, retainedShared: 0, alreadyAbsent: new Set(target.tokens).size - erased.length };
      }
    }
  }

  async function eraseOnce(
    args: { principal: Principal; target: ErasureTarget; reference?: string | undefined; requestId: string },
    erasureId: string,
    requestedAt: Date,
  ) {
    return db.transaction(async (tx) => {
      const completedAt = new Date();
      const outcome = await deleteMappings(tx, args.target, erasureId, completedAt);
      const erased = outcome.erased.sort((a, b) => (a.namespace + a.token < b.namespace + b.token ? -1 : 1));
      const counts = { erased: erased.length, retainedShared: outcome.retainedShared, alreadyAbsent: outcome.alreadyAbsent };
      const unsigned: Omit<Receipt, 'signature'> = {
        version: 2,
        erasureId,
        status: 'completed',
        method: args.target.method,
        scope: args.target.method === 'subject' ? 'subject' : 'everyone',
        reference: args.reference ?? null,
        requestedAt: requestedAt.toISOString(),
        completedAt: completedAt.toISOString(),
        tokensErased: erased.length,
        tokens: erased,
        counts,
        ...(erased.length ? {} : { reason: NOTHING_ERASED[args.target.method](outcome) }),
        keyId,
      };
      const receipt: Receipt = { ...unsigned, signature: signer.sign(receiptSigningInput(unsigned)) };
      const seq = await repo.insertFeedRow({
        tx,
        row: {
          id: erasureId,
          method: args.target.method,
          reference: args.reference ?? null,
          actor: args.principal.id,
          requestedAt,
          completedAt,
          tokensErased: erased.length,
          receipt,
        },
      });
      // No subject identifier, not even its HMAC: a returning subject would reproduce it and so
      // re-link this row to their new records. The erasure id (a column) names the erasure.
      await deps.auditLog.append(tx, [
        {
          requestId: args.requestId,
          actor: args.principal.id,
          action: 'erasure',
          outcome: 'success',
          namespace: args.target.method === 'subject' ? null : args.target.ns.name,
          erasureId,
          details: {
            method: args.target.method,
            tokensErased: erased.length,
            retainedShared: counts.retainedShared,
            alreadyAbsent: counts.alreadyAbsent,
            ...(args.reference ? { reference: args.reference } : {}),
          },
        },
      ]);
      return { receipt, seq };
    });
  }

  return {
    async erase(args: {
      principal: Principal;
      target: ErasureTarget;
      reference?: string | undefined;
      requestId: string;
    }): Promise<Receipt> {
      const erasureId = randomUUID();
      const requestedAt = new Date();
      for (let attempt = 1; ; attempt++) {
        try {
          const { receipt, seq } = await eraseOnce(args, erasureId, requestedAt);
          deps.onErased(seq);
          return receipt;
        } catch (err) {
          if (attempt < MAX_TX_ATTEMPTS && pgErrorCode(err) === '40P01') continue;
          throw err;
        }
      }
    },

    async receipt(id: string): Promise<StoredReceipt | null> {
      return (await repo.receipt({ id })) as StoredReceipt | null;
    },

    /** The feed: erasures in commit order after a cursor (a sequence number). */
    async feed(after: number, limit: number): Promise<{ seq: number; receipt: StoredReceipt }[]> {
      return (await repo.feed({ after, limit })) as { seq: number; receipt: StoredReceipt }[];
    },

    latestSeq: () => repo.latestSeq(),
  };
}

export type Eraser = ReturnType<typeof createEraser>;

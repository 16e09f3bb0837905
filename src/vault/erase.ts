import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { canonicalJson, type Signer } from '../crypto/signing.js';
import type { Db, Executor } from '../db/client.js';
import type { ErasuresRepository, TombstonedToken } from '../db/repositories/erasures-repository.js';
import { errors } from '../errors.js';
import { FormatError, type TokenType } from '../formats/registry.js';
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

/** Receipt format version 1. The signature covers canonicalJson(receipt without `signature`). */
export interface Receipt {
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

export function receiptSigningInput(r: Omit<Receipt, 'signature'> | Receipt): Buffer {
  const { signature: _s, ...unsigned } = r as Receipt;
  return Buffer.from(canonicalJson(unsigned));
}

export function createEraser(deps: { db: Db; keyring: Keyring; signer: Signer; repo: ErasuresRepository; auditLog: AuditLog; onErased: () => void }) {
  const { db, keyring, signer, repo } = deps;
  const keyId = signer.publicJwk().kid;

  /** Deletes the target's mappings and writes their tombstones in one statement. */
  async function deleteMappings(tx: Executor, target: ErasureTarget, erasureId: string, at: Date): Promise<ErasedToken[]> {
    const tombstone = (scope: Parameters<typeof repo.tombstone>[0]['scope']) => repo.tombstone({ tx, erasureId, at, scope });
    switch (target.method) {
      case 'subject': {
        const hmac = keyring.subjectHmac(target.subject);
        // Lock the subject's key first, in its own statement: a tokenize writing under it holds it
        // FOR SHARE, so this waits for that write to commit, and the next statement's snapshot sees
        // (and deletes) its mappings; a tokenize that comes later waits, then creates a fresh key.
        await repo.lockSubjectKey({ tx, subjectHmac: hmac });
        // The subject's links go with its mappings (ON DELETE CASCADE). Deleting the key, in the
        // same statement, is the crypto-shredding: without it, no copy of the ciphertexts (a backup)
        // can be read.
        return tombstone({ method: 'subject', subjectHmac: hmac });
      }
      case 'value': {
        let normalized: string;
        try {
          normalized = target.ns.formats[target.type].normalize(target.value);
        } catch (err) {
          if (err instanceof FormatError) throw errors.validation(`value is not a valid ${target.type}: ${err.message}`);
          throw err;
        }
        return tombstone({ method: 'value', namespace: target.ns.name, fingerprint: keyring.fingerprint(target.ns.name, target.type, normalized) });
      }
      case 'tokens':
        return tombstone({ method: 'tokens', namespace: target.ns.name, tokens: target.tokens });
    }
  }

  return {
    async erase(args: { principal: Principal; target: ErasureTarget; reference?: string | undefined; requestId: string }): Promise<Receipt> {
      const erasureId = randomUUID();
      const requestedAt = new Date();
      const receipt = await db.transaction(async (tx) => {
        const completedAt = new Date();
        const erased = (await deleteMappings(tx, args.target, erasureId, completedAt)).sort((a, b) => (a.namespace + a.token < b.namespace + b.token ? -1 : 1));
        const unsigned: Omit<Receipt, 'signature'> = {
          version: 1,
          erasureId,
          status: 'completed',
          method: args.target.method,
          reference: args.reference ?? null,
          requestedAt: requestedAt.toISOString(),
          completedAt: completedAt.toISOString(),
          tokensErased: erased.length,
          tokens: erased,
          keyId,
        };
        const receipt: Receipt = { ...unsigned, signature: signer.sign(receiptSigningInput(unsigned)) };
        await repo.insertFeedRow({
          tx,
          row: { id: erasureId, method: args.target.method, reference: args.reference ?? null, actor: args.principal.id, requestedAt, completedAt, tokensErased: erased.length, receipt },
        });
        await deps.auditLog.append(tx, [{
          requestId: args.requestId,
          actor: args.principal.id,
          action: 'erasure',
          outcome: 'success',
          namespace: args.target.method === 'subject' ? null : args.target.ns.name,
          erasureId,
          details: {
            method: args.target.method,
            tokensErased: erased.length,
            ...(args.target.method === 'subject' ? { subjectHmac: keyring.subjectHmac(args.target.subject).toString('hex') } : {}),
            ...(args.reference ? { reference: args.reference } : {}),
          },
        }]);
        return receipt;
      });
      deps.onErased();
      return receipt;
    },

    async receipt(id: string): Promise<Receipt | null> {
      return (await repo.receipt({ id })) as Receipt | null;
    },

    /** The feed: erasures in commit order after a cursor (a sequence number). */
    async feed(after: number, limit: number): Promise<{ seq: number; receipt: Receipt }[]> {
      return (await repo.feed({ after, limit })) as { seq: number; receipt: Receipt }[];
    },

    latestSeq: () => repo.latestSeq(),
  };
}

export type Eraser = ReturnType<typeof createEraser>;

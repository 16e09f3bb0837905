import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { canonicalJson, type Signer } from '../crypto/signing.js';
import { hotQuery, rows, type Db, type Executor } from '../db/client.js';
import { errors } from '../errors.js';
import { FormatError, type TokenType } from '../formats/registry.js';
import type { Namespace } from './policy.js';
import type { Principal } from './principal.js';

export type ErasureTarget =
  | { method: 'subject'; subject: string }
  | { method: 'value'; ns: Namespace; type: TokenType; value: string }
  | { method: 'tokens'; ns: Namespace; tokens: string[] };

export interface ErasedToken {
  namespace: string;
  type: string;
  token: string;
}

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

/**
 * Per method, one statement that deletes the mappings ($3…) and writes their tombstones ($1
 * erasure id, $2 time); prepared, like every statement of an erasure. For a subject it also deletes
 * the subject's key, which this transaction has already locked.
 */
const tombstoning = (deleted: string, alsoDelete?: string) => `
  with d as (${deleted} returning namespace, type, token),
       t as (insert into tombstones (namespace, token, type, erasure_id, erased_at)
             select namespace, token, type, $1, $2 from d on conflict do nothing)${alsoDelete ? `,
       k as (${alsoDelete})` : ''}
  select namespace, type, token from d`;
const ERASE_SQL: Record<ErasureTarget['method'], string> = {
  subject: tombstoning('delete from mappings where id in (select mapping_id from subject_links where subject_hmac = $3)', 'delete from data_keys where subject_hmac = $3'),
  value: tombstoning('delete from mappings where fingerprint = $3 and namespace = $4'),
  tokens: tombstoning('delete from mappings where namespace = $3 and token = any($4::text[])'),
};

/**
 * The feed row. Its sequence number comes from tokenvault_next_erasure_seq (migration 0005), which
 * takes the feed lock, held to commit: numbers are assigned in commit order.
 */
const FEED_INSERT_SQL = `
  insert into erasures (id, seq, method, reference, actor, requested_at, completed_at, tokens_erased, receipt)
  values ($1, tokenvault_next_erasure_seq(), $2, $3, $4, $5, $6, $7, $8::jsonb)`;

export function receiptSigningInput(r: Omit<Receipt, 'signature'> | Receipt): Buffer {
  const { signature: _s, ...unsigned } = r as Receipt;
  return Buffer.from(canonicalJson(unsigned));
}

export function createEraser(deps: { db: Db; keyring: Keyring; signer: Signer; auditLog: AuditLog; onErased: () => void }) {
  const { db, keyring, signer } = deps;
  const keyId = signer.publicJwk().kid;

  /** Deletes the target's mappings and writes their tombstones in one statement. */
  async function deleteMappings(tx: Executor, target: ErasureTarget, erasureId: string, at: Date): Promise<ErasedToken[]> {
    const tombstone = (params: unknown[]) => hotQuery<ErasedToken>(tx, `tv_erase_${target.method}`, ERASE_SQL[target.method], [erasureId, at.toISOString(), ...params]);
    switch (target.method) {
      case 'subject': {
        const hmac = keyring.subjectHmac(target.subject);
        // Lock the subject's key first, in its own statement: a tokenize writing under it holds it
        // FOR SHARE, so this waits for that write to commit, and the next statement's snapshot sees
        // (and deletes) its mappings; a tokenize that comes later waits, then creates a fresh key.
        await hotQuery(tx, 'tv_erase_lock_key', 'select id from data_keys where subject_hmac = $1 for update', [hmac]);
        // The subject's links go with its mappings (ON DELETE CASCADE). Deleting the key, in the
        // same statement, is the crypto-shredding: without it, no copy of the ciphertexts (a backup)
        // can be read.
        return tombstone([hmac]);
      }
      case 'value': {
        let normalized: string;
        try {
          normalized = target.ns.formats[target.type].normalize(target.value);
        } catch (err) {
          if (err instanceof FormatError) throw errors.validation(`value is not a valid ${target.type}: ${err.message}`);
          throw err;
        }
        return tombstone([keyring.fingerprint(target.ns.name, target.type, normalized), target.ns.name]);
      }
      case 'tokens':
        return tombstone([target.ns.name, target.tokens]);
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
        await hotQuery(tx, 'tv_erase_feed', FEED_INSERT_SQL, [erasureId, args.target.method, args.reference ?? null, args.principal.id, requestedAt.toISOString(), completedAt.toISOString(), erased.length, JSON.stringify(receipt)]);
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
      const [r] = await rows<{ receipt: Receipt | string }>(db, sql`select receipt from erasures where id = ${id}`);
      if (!r) return null;
      return typeof r.receipt === 'string' ? (JSON.parse(r.receipt) as Receipt) : r.receipt;
    },

    /** The feed: erasures in commit order after a cursor (a sequence number). */
    async feed(after: number, limit: number): Promise<{ seq: number; receipt: Receipt }[]> {
      const r = await rows<{ seq: number; receipt: Receipt | string }>(db, sql`select seq, receipt from erasures where seq > ${after} order by seq limit ${limit}`);
      return r.map((x) => ({ seq: Number(x.seq), receipt: typeof x.receipt === 'string' ? (JSON.parse(x.receipt) as Receipt) : x.receipt }));
    },

    async latestSeq(): Promise<number> {
      const [r] = await rows<{ s: number }>(db, sql`select coalesce(max(seq), 0)::bigint as s from erasures`);
      return Number(r?.s ?? 0);
    },
  };
}

export type Eraser = ReturnType<typeof createEraser>;

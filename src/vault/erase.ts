import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { appendAudit } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import { canonicalJson, type Signer } from '../crypto/signing.js';
import { hotQuery, pgErrorCode, rows, type Db, type Executor } from '../db/client.js';
import { errors } from '../errors.js';
import type { RandomSource } from '../formats/random.js';
import { FormatError, type TokenType } from '../formats/registry.js';
import type { DataKeys } from './data-keys.js';
import { handOverLegacyCopies, type LegacyRow } from './legacy-copies.js';
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

/**
 * Per method, one statement that deletes the mappings ($3…) and writes their tombstones ($1
 * erasure id, $2 time); prepared, like every statement of an erasure.
 */
const tombstoning = (deleted: string) => `
  with d as (${deleted} returning namespace, type, token),
       t as (insert into tombstones (namespace, token, type, erasure_id, erased_at)
             select namespace, token, type, $1, $2 from d on conflict do nothing)
  select namespace, type, token from d`;
const ERASE_SQL: Record<ErasureTarget['method'], string> = {
  // What is the subject's alone ($3: its HMAC) goes with its tombstones; from a value other
  // subjects also hold only this subject's link (and its copy) goes, one row each with a null
  // token. Deleting the key is the crypto-shredding: no copy of this subject's ciphertexts (a
  // backup) can be read with any key that remains. Its mappings are locked by then, so no
  // concurrent link to them is missed.
  subject: `
  with mine as (select mapping_id from subject_links where subject_hmac = $3),
       shared as (select distinct o.mapping_id from subject_links o join mine using (mapping_id) where o.subject_hmac <> $3),
       d as (delete from mappings where id in (select mapping_id from mine) and id not in (select mapping_id from shared)
             returning namespace, type, token),
       t as (insert into tombstones (namespace, token, type, erasure_id, erased_at)
             select namespace, token, type, $1, $2 from d on conflict do nothing),
       u as (delete from subject_links where subject_hmac = $3 and mapping_id in (select mapping_id from shared) returning 1),
       k as (delete from data_keys where subject_hmac = $3)
  select namespace, type, token from d
  union all
  select null, null, null from u`,
  value: tombstoning('delete from mappings where fingerprint = $3 and namespace = $4'),
  tokens: tombstoning('delete from mappings where namespace = $3 and token = any($4::text[])'),
};

const NOTHING_ERASED: Record<ErasureTarget['method'], (o: Outcome) => string> = {
  subject: (o) => (o.retainedShared
    ? 'every value held for this subject is also held by other subjects: it was only unlinked from this subject'
    : 'nothing is held for this subject (never tokenized with it, or already erased)'),
  value: () => 'no mapping holds this value in this namespace (never tokenized, or already erased)',
  tokens: () => 'none of these tokens has a mapping (never issued here, or already erased)',
};

/**
 * The feed row. Its sequence number comes from tokenvault_next_erasure_seq (migration 0005), which
 * takes the feed lock, held to commit: numbers are assigned in commit order.
 */
const FEED_INSERT_SQL = `
  insert into erasures (id, seq, method, reference, actor, requested_at, completed_at, tokens_erased, receipt)
  values ($1, tokenvault_next_erasure_seq(), $2, $3, $4, $5, $6, $7, $8::jsonb)
  returning seq`;

/** Deadlock with a tokenize batch or another erasure, broken by PostgreSQL: run the erasure again. */
const MAX_TX_ATTEMPTS = 3;

export function receiptSigningInput(r: Omit<StoredReceipt, 'signature'> | StoredReceipt): Buffer {
  const { signature: _s, ...unsigned } = r as StoredReceipt;
  return Buffer.from(canonicalJson(unsigned));
}

export function createEraser(deps: { db: Db; keyring: Keyring; signer: Signer; dataKeys: DataKeys; rng: RandomSource; onErased: (seq: number) => void }) {
  const { db, keyring, signer } = deps;
  const keyId = signer.publicJwk().kid;

  /** Deletes what the target reaches, writes its tombstones, and says what it did. */
  async function deleteMappings(tx: Executor, target: ErasureTarget, erasureId: string, at: Date): Promise<Outcome> {
    const run = (params: unknown[]) => hotQuery<{ namespace: string | null; type: string | null; token: string | null }>(tx, `tv_erase_${target.method}`, ERASE_SQL[target.method], [erasureId, at.toISOString(), ...params]);
    const split = (found: Awaited<ReturnType<typeof run>>) => {
      const erased = found.filter((r): r is ErasedToken => r.token !== null);
      return { erased, retainedShared: found.length - erased.length };
    };
    switch (target.method) {
      case 'subject': {
        const hmac = keyring.subjectHmac(target.subject);
        // Lock the subject's key first, in its own statement: a tokenize writing under it holds it
        // FOR SHARE, so this waits for that write to commit, and the next statement's snapshot sees
        // (and deletes) its mappings; a tokenize that comes later waits, then creates a fresh key.
        const [key] = await hotQuery<{ id: string; kek_version: number; wrapped_key: Buffer | Uint8Array }>(tx, 'tv_erase_lock_key', 'select id, kek_version, wrapped_key from data_keys where subject_hmac = $1 for update', [hmac]);
        // Then its mappings, in id order (tokenize links in that order): a tokenize linking another
        // subject to one of them holds it (FOR KEY SHARE) until it commits, so the next statement
        // sees that link and keeps the value for that subject instead of erasing it. Rows whose
        // only copy is under this subject's key (written before per-link copies) come back whole.
        const locked = await hotQuery<LegacyRow & { legacy: boolean }>(tx, 'tv_erase_lock_mappings', `
          select id, namespace, type, token, case when dek_id = $2 then ciphertext end as ciphertext, dek_id = $2 as legacy from mappings
          where id in (select mapping_id from subject_links where subject_hmac = $1) order by id for update`, [hmac, key?.id ?? null]);
        const legacy = locked.filter((r) => r.legacy);
        if (key && legacy.length) await handOverLegacyCopies(tx, deps, { hmac, key }, legacy);
        return { ...split(await run([hmac])), alreadyAbsent: 0 };
      }
      case 'value': {
        let normalized: string;
        try {
          normalized = target.ns.formats[target.type].normalize(target.value);
        } catch (err) {
          if (err instanceof FormatError) throw errors.validation(`value is not a valid ${target.type}: ${err.message}`);
          throw err;
        }
        const { erased } = split(await run([keyring.fingerprint(target.ns.name, target.type, normalized), target.ns.name]));
        return { erased, retainedShared: 0, alreadyAbsent: erased.length ? 0 : 1 };
      }
      case 'tokens': {
        const { erased } = split(await run([target.ns.name, target.tokens]));
        return { erased, retainedShared: 0, alreadyAbsent: new Set(target.tokens).size - erased.length };
      }
    }
  }

  async function eraseOnce(args: { principal: Principal; target: ErasureTarget; reference?: string | undefined; requestId: string }, erasureId: string, requestedAt: Date) {
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
      const [feed] = await hotQuery<{ seq: number | string }>(tx, 'tv_erase_feed', FEED_INSERT_SQL, [erasureId, args.target.method, args.reference ?? null, args.principal.id, requestedAt.toISOString(), completedAt.toISOString(), erased.length, JSON.stringify(receipt)]);
      // No subject identifier, not even its HMAC: a returning subject would reproduce it and so
      // re-link this row to their new records. The erasure id (a column) names the erasure.
      await appendAudit(tx, [{
        requestId: args.requestId,
        actor: args.principal.id,
        action: 'erasure',
        outcome: 'success',
        namespace: args.target.method === 'subject' ? null : args.target.ns.name,
        erasureId,
        details: { method: args.target.method, tokensErased: erased.length, retainedShared: counts.retainedShared, alreadyAbsent: counts.alreadyAbsent, ...(args.reference ? { reference: args.reference } : {}) },
      }]);
      return { receipt, seq: Number(feed!.seq) };
    });
  }

  return {
    async erase(args: { principal: Principal; target: ErasureTarget; reference?: string | undefined; requestId: string }): Promise<Receipt> {
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
      const [r] = await rows<{ receipt: StoredReceipt | string }>(db, sql`select receipt from erasures where id = ${id}`);
      if (!r) return null;
      return typeof r.receipt === 'string' ? (JSON.parse(r.receipt) as StoredReceipt) : r.receipt;
    },

    /** The feed: erasures in commit order after a cursor (a sequence number). */
    async feed(after: number, limit: number): Promise<{ seq: number; receipt: StoredReceipt }[]> {
      const r = await rows<{ seq: number; receipt: StoredReceipt | string }>(db, sql`select seq, receipt from erasures where seq > ${after} order by seq limit ${limit}`);
      return r.map((x) => ({ seq: Number(x.seq), receipt: typeof x.receipt === 'string' ? (JSON.parse(x.receipt) as StoredReceipt) : x.receipt }));
    },

    async latestSeq(): Promise<number> {
      const [r] = await rows<{ s: number }>(db, sql`select coalesce(max(seq), 0)::bigint as s from erasures`);
      return Number(r?.s ?? 0);
    },
  };
}

export type Eraser = ReturnType<typeof createEraser>;

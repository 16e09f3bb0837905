import { asc, eq, gt, max } from 'drizzle-orm';
import { hotQuery, type Executor } from '../client.js';
import { erasuresTable } from '../schema.js';

export type ErasureRow = typeof erasuresTable.$inferSelect;

export interface TombstonedToken {
  namespace: string;
  type: string;
  token: string;
}

/** What an erasure deletes: a subject's mappings (and key), a value's, or tokens. */
export type ErasureScope =
  | { method: 'subject'; subjectHmac: Buffer }
  | { method: 'value'; namespace: string; fingerprint: Buffer }
  | { method: 'tokens'; namespace: string; tokens: string[] };

/**
 * Per method, one statement that deletes the mappings ($3…) and writes their tombstones ($1
 * erasure id, $2 time); prepared, like every statement of an erasure.
 */
const tombstoning = (deleted: string) => `
  with d as (${deleted} returning namespace, type, token),
       t as (insert into tombstones (namespace, token, type, erasure_id, erased_at)
             select namespace, token, type, $1, $2 from d on conflict do nothing)
  select namespace, type, token from d`;
const ERASE_SQL: Record<ErasureScope['method'], string> = {
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

/**
 * The feed row. Its sequence number comes from tokenvault_next_erasure_seq (migration 0005), which
 * takes the feed lock, held to commit: numbers are assigned in commit order.
 */
const FEED_INSERT_SQL = `
  insert into erasures (id, seq, method, reference, actor, requested_at, completed_at, tokens_erased, receipt)
  values ($1, tokenvault_next_erasure_seq(), $2, $3, $4, $5, $6, $7, $8::jsonb)
  returning seq`;

/** The erasure feed head: an index-only read of its highest sequence number. */
const ERASURE_HEAD_SQL = 'select coalesce(max(seq), 0)::bigint as s from erasures';

/** A subject's mapping as its erasure locks it; `ciphertext` only when it is under the subject's key. */
export interface LockedMapping {
  id: number;
  namespace: string;
  type: string;
  token: string;
  ciphertext: Buffer | Uint8Array | null;
  legacy: boolean;
}

const FIND_TOMBSTONES_SQL = 'select token from tombstones where namespace = $1 and token = any($2::text[])';

/**
 * Erasures (the feed and its receipts) and tombstones. The erasure's own statements are prepared
 * raw SQL: data-modifying CTEs and a sequence function drizzle's builder cannot express.
 */
export function createErasuresRepository({ db }: { db: Executor }) {
  return {
    /** Locks a subject's key (FOR UPDATE), in its own statement. Prepared: on every subject erasure. */
    async lockSubjectKey({
      tx,
      subjectHmac,
    }: {
      tx: Executor;
      subjectHmac: Buffer;
    }): Promise<{ id: string; kek_version: number; wrapped_key: Buffer | Uint8Array } | undefined> {
      const [key] = await hotQuery<{ id: string; kek_version: number; wrapped_key: Buffer | Uint8Array }>(
        tx,
        'tv_erase_lock_key',
        'select id, kek_version, wrapped_key from data_keys where subject_hmac = $1 for update',
        [subjectHmac],
      );
      return key;
    },

    /**
     * Locks a subject's mappings FOR UPDATE, in id order (tokenize links in that order). Rows whose
     * only copy is under the subject's key ($2; written before per-link copies) come back whole.
     */
    async lockSubjectMappings({
      tx,
      subjectHmac,
      keyId,
    }: {
      tx: Executor;
      subjectHmac: Buffer;
      keyId: string | null;
    }): Promise<LockedMapping[]> {
      return hotQuery<LockedMapping>(
        tx,
        'tv_erase_lock_mappings',
        `
        select id, namespace, type, token, case when dek_id = $2 then ciphertext end as ciphertext, dek_id = $2 as legacy from mappings
        where id in (select mapping_id from subject_links where subject_hmac = $1) order by id for update`,
        [subjectHmac, keyId],
      );
    },

    /** The feed head, read inside a tokenize transaction. Prepared: once per flush that met existing values. */
    async head({ tx }: { tx: Executor }): Promise<number> {
      const [h] = await hotQuery<{ s: number | string }>(tx, 'tv_erasure_head', ERASURE_HEAD_SQL, []);
      return Number(h!.s);
    },

    /** Deletes the scope's mappings and writes their tombstones in one statement (data-modifying CTEs: raw SQL). */
    async tombstone({
      tx,
      erasureId,
      at,
      scope,
    }: {
      tx: Executor;
      erasureId: string;
      at: Date;
      scope: ErasureScope;
    }): Promise<{ namespace: string | null; type: string | null; token: string | null }[]> {
      const params =
        scope.method === 'subject'
          ? [scope.subjectHmac]
          : scope.method === 'value'
            ? [scope.fingerprint, scope.namespace]
            : [scope.namespace, scope.tokens];
      // A row with a null token (by subject): a shared value only unlinked from the subject.
      return hotQuery(tx, `tv_erase_${scope.method}`, ERASE_SQL[scope.method], [erasureId, at.toISOString(), ...params]);
    },

    /** The feed row, its seq from the feed-lock function (raw SQL: the builder cannot call it in VALUES). */
    async insertFeedRow({ tx, row }: { tx: Executor; row: Omit<ErasureRow, 'seq'> }): Promise<number> {
      const [r] = await hotQuery<{ seq: number | string }>(tx, 'tv_erase_feed', FEED_INSERT_SQL, [
        row.id,
        row.method,
        row.reference,
        row.actor,
        row.requestedAt.toISOString(),
        row.completedAt.toISOString(),
        row.tokensErased,
        JSON.stringify(row.receipt),
      ]);
      return Number(r!.seq);
    },

    /** Prepared raw SQL: every detokenize lookup with unknown tokens runs it. */
    async erasedTokens({ namespace, tokens }: { namespace: string; tokens: string[] }): Promise<string[]> {
      return (await hotQuery<{ token: string }>(db, 'tv_find_tombstones', FIND_TOMBSTONES_SQL, [namespace, tokens])).map((r) => r.token);
    },

    async receipt({ id }: { id: string }): Promise<unknown> {
      const [r] = await db.select({ receipt: erasuresTable.receipt }).from(erasuresTable).where(eq(erasuresTable.id, id));
      return r?.receipt ?? null;
    },

    /** The feed: erasures in commit order after a cursor (a sequence number). */
    async feed({ after, limit }: { after: number; limit: number }): Promise<{ seq: number; receipt: unknown }[]> {
      return db
        .select({ seq: erasuresTable.seq, receipt: erasuresTable.receipt })
        .from(erasuresTable)
        .where(gt(erasuresTable.seq, after))
        .orderBy(asc(erasuresTable.seq))
        .limit(limit);
    },

    async latestSeq(): Promise<number> {
      const [r] = await db.select({ s: max(erasuresTable.seq) }).from(erasuresTable);
      return Number(r?.s ?? 0);
    },
  };
}

export type ErasuresRepository = ReturnType<typeof createErasuresRepository>;

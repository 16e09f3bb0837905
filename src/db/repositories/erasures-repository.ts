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
 * erasure id, $2 time); prepared, like every statement of an erasure. For a subject it also deletes
 * the subject's key, which this transaction has already locked.
 */
const tombstoning = (deleted: string, alsoDelete?: string) => `
  with d as (${deleted} returning namespace, type, token),
       t as (insert into tombstones (namespace, token, type, erasure_id, erased_at)
             select namespace, token, type, $1, $2 from d on conflict do nothing)${
               alsoDelete
                 ? `,
       k as (${alsoDelete})`
                 : ''
             }
  select namespace, type, token from d`;
const ERASE_SQL: Record<ErasureScope['method'], string> = {
  subject: tombstoning(
    'delete from mappings where id in (select mapping_id from subject_links where subject_hmac = $3)',
    'delete from data_keys where subject_hmac = $3',
  ),
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

const FIND_TOMBSTONES_SQL = 'select token from tombstones where namespace = $1 and token = any($2::text[])';

/**
 * Erasures (the feed and its receipts) and tombstones. The erasure's own statements are prepared
 * raw SQL: data-modifying CTEs and a sequence function drizzle's builder cannot express.
 */
export function createErasuresRepository({ db }: { db: Executor }) {
  return {
    /** Locks a subject's key (FOR UPDATE), in its own statement. Prepared: on every subject erasure. */
    async lockSubjectKey({ tx, subjectHmac }: { tx: Executor; subjectHmac: Buffer }): Promise<void> {
      await hotQuery(tx, 'tv_erase_lock_key', 'select id from data_keys where subject_hmac = $1 for update', [subjectHmac]);
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
    }): Promise<TombstonedToken[]> {
      const params =
        scope.method === 'subject'
          ? [scope.subjectHmac]
          : scope.method === 'value'
            ? [scope.fingerprint, scope.namespace]
            : [scope.namespace, scope.tokens];
      return hotQuery<TombstonedToken>(tx, `tv_erase_${scope.method}`, ERASE_SQL[scope.method], [erasureId, at.toISOString(), ...params]);
    },

    /** The feed row, its seq from the feed-lock function (raw SQL: the builder cannot call it in VALUES). */
    async insertFeedRow({ tx, row }: { tx: Executor; row: Omit<ErasureRow, 'seq'> }): Promise<void> {
      await hotQuery(tx, 'tv_erase_feed', FEED_INSERT_SQL, [
        row.id,
        row.method,
        row.reference,
        row.actor,
        row.requestedAt.toISOString(),
        row.completedAt.toISOString(),
        row.tokensErased,
        JSON.stringify(row.receipt),
      ]);
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

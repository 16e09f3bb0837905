import { asc, eq, sql } from 'drizzle-orm';
import { hotQuery, pgErrorCode, type Executor } from '../client.js';
import { mappingsTable, subjectLinksTable, toBuffer } from '../schema.js';
import { MappingErasedError } from '../../errors.js';

/**
 * Subject links, each with the subject's own copy of the value. Ordered by mapping id: the row
 * locks their foreign-key checks take on existing mappings then come in the order in which an
 * erasure by subject locks mappings, so the two cannot deadlock.
 */
const LINK_SQL = `insert into subject_links (subject_hmac, mapping_id, dek_id, ciphertext)
  select * from unnest($1::bytea[], $2::bigint[], $3::uuid[], $4::bytea[]) order by 2, 1
  on conflict do nothing`;

/**
 * A value held without a subject until now has just been linked to one: its namespace-key copy
 * goes, so that once its subjects are erased no key that survives them opens any copy of it.
 * Kept while a link written before per-link copies has no copy of its own (it reads this one).
 */
const DROP_NAMESPACE_COPY_SQL = `update mappings m set dek_id = null, ciphertext = null
  where id = any($1::bigint[]) and ciphertext is not null
    and not exists (select 1 from subject_links l where l.mapping_id = m.id and l.ciphertext is null)`;

/** Which subjects a mapping belongs to, and what the vault holds for a subject. */
export function createSubjectLinksRepository({ db }: { db: Executor }) {
  return {
    /**
     * Links mappings to subjects (pairs by position). Raw SQL with array parameters: a tokenize
     * flush may link thousands of pairs, one parameter per column instead of one per value.
     * Throws MappingErasedError when a mapping was erased (its row deleted) before the link.
     */
    async link({
      tx,
      links,
      moved,
    }: {
      tx: Executor;
      links: { subjectHmac: Buffer[]; mappingId: number[]; dekId: string[]; ciphertext: Buffer[] };
      moved: number[];
    }): Promise<void> {
      if (!links.mappingId.length) return;
      try {
        await hotQuery(tx, 'tv_link', LINK_SQL, [links.subjectHmac, links.mappingId, links.dekId, links.ciphertext]);
        // After the links: this transaction already holds a lock on each of these rows, so the
        // update only upgrades it (an erasure waiting for the row cannot deadlock with it).
        if (moved.length) await hotQuery(tx, 'tv_drop_ns_copy', DROP_NAMESPACE_COPY_SQL, [[...moved].sort((x, y) => x - y)]);
      } catch (err) {
        // foreign_key_violation: the mapping this link points at is gone.
        if (pgErrorCode(err) === '23503') throw new MappingErasedError();
        throw err;
      }
    },

    /**
     * For an erasure of one subject ($2) among these mappings ($1, rows written before per-link
     * copies): the other subjects' links that have no copy of their own, and the mappings some
     * other subject holds at all.
     */
    async otherHolders({ tx, mappingIds, except }: { tx: Executor; mappingIds: number[]; except: Buffer }) {
      const links = await hotQuery<{ mapping_id: number | string; subject_hmac: Buffer | Uint8Array; has_copy: boolean }>(
        tx,
        'tv_legacy_links',
        'select mapping_id, subject_hmac, ciphertext is not null as has_copy from subject_links where mapping_id = any($1::bigint[]) and subject_hmac <> $2 order by mapping_id, subject_hmac',
        [mappingIds, except],
      );
      return {
        copyless: links.filter((l) => !l.has_copy).map((l) => ({ mappingId: Number(l.mapping_id), subjectHmac: toBuffer(l.subject_hmac) })),
        shared: [...new Set(links.map((l) => Number(l.mapping_id)))],
      };
    },

    /** Gives links their own copies, then drops the mappings' copies (both as one hand-over). */
    async handOver({
      tx,
      links,
      mappingIds,
    }: {
      tx: Executor;
      links: { subjectHmac: Buffer[]; mappingId: number[]; dekId: string[]; ciphertext: Buffer[] };
      mappingIds: number[];
    }): Promise<void> {
      if (links.mappingId.length) {
        await hotQuery(
          tx,
          'tv_legacy_fill',
          `update subject_links l set dek_id = u.dek, ciphertext = u.ct
          from unnest($1::bytea[], $2::bigint[], $3::uuid[], $4::bytea[]) as u(hmac, id, dek, ct)
          where l.subject_hmac = u.hmac and l.mapping_id = u.id`,
          [links.subjectHmac, links.mappingId, links.dekId, links.ciphertext],
        );
      }
      if (mappingIds.length)
        await hotQuery(tx, 'tv_legacy_drop', 'update mappings set dek_id = null, ciphertext = null where id = any($1::bigint[])', [
          mappingIds,
        ]);
    },

    /**
     * Every mapping linked to a subject, ordered for export, with the subject's own copy (links
     * written before per-link copies have none: the mapping's copy serves them).
     */
    async mappingsOf({ subjectHmac }: { subjectHmac: Buffer }) {
      const m = mappingsTable;
      const l = subjectLinksTable;
      return db
        .select({
          namespace: m.namespace,
          type: m.type,
          token: m.token,
          createdAt: m.createdAt,
          dekId: sql<string | null>`coalesce(${l.dekId}, ${m.dekId})`,
          ciphertext: sql<Buffer | Uint8Array | null>`coalesce(${l.ciphertext}, ${m.ciphertext})`,
          subjectKey: l.dekId,
        })
        .from(subjectLinksTable)
        .innerJoin(m, eq(m.id, subjectLinksTable.mappingId))
        .where(eq(subjectLinksTable.subjectHmac, subjectHmac))
        .orderBy(asc(m.namespace), asc(m.type), asc(m.createdAt), asc(m.token));
    },
  };
}

export type SubjectLinksRepository = ReturnType<typeof createSubjectLinksRepository>;

import { asc, eq, sql } from 'drizzle-orm';
import { pgErrorCode, type Executor } from '../client.js';
import { mappingsTable, subjectLinksTable } from '../schema.js';
import { MappingErasedError } from '../../errors.js';

/** Which subjects a mapping belongs to, and what the vault holds for a subject. */
export function createSubjectLinksRepository({ db }: { db: Executor }) {
  return {
    /**
     * Links mappings to subjects (pairs by position). Raw SQL with array parameters: a tokenize
     * flush may link thousands of pairs, one parameter per column instead of one per value.
     * Throws MappingErasedError when a mapping was erased (its row deleted) before the link.
     */
    async link({ tx, subjectHmacs, mappingIds }: { tx: Executor; subjectHmacs: Buffer[]; mappingIds: number[] }): Promise<void> {
      if (!mappingIds.length) return;
      try {
        await tx.execute(sql`
          insert into subject_links (subject_hmac, mapping_id)
          select * from unnest(${sql.param(subjectHmacs)}::bytea[], ${sql.param(mappingIds)}::bigint[]) order by 1, 2
          on conflict do nothing`);
      } catch (err) {
        // foreign_key_violation: the mapping this link points at is gone.
        if (pgErrorCode(err) === '23503') throw new MappingErasedError();
        throw err;
      }
    },

    /** Every mapping linked to a subject, ordered for export. */
    async mappingsOf({ subjectHmac }: { subjectHmac: Buffer }) {
      const m = mappingsTable;
      return db
        .select({ namespace: m.namespace, type: m.type, token: m.token, createdAt: m.createdAt, dekId: m.dekId, ciphertext: m.ciphertext })
        .from(subjectLinksTable)
        .innerJoin(m, eq(m.id, subjectLinksTable.mappingId))
        .where(eq(subjectLinksTable.subjectHmac, subjectHmac))
        .orderBy(asc(m.namespace), asc(m.type), asc(m.createdAt), asc(m.token));
    },
  };
}

export type SubjectLinksRepository = ReturnType<typeof createSubjectLinksRepository>;

import { desc, inArray, eq, sql, asc } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { dataKeysTable } from '../schema.js';

export type DataKeyRow = typeof dataKeysTable.$inferSelect;
/** What unwrapping a DEK needs. */
export type WrappedDek = Pick<DataKeyRow, 'id' | 'kekVersion' | 'wrappedKey'>;

const NAMESPACE_DEK_LOCK = 7210003;
const wrappedColumns = { id: dataKeysTable.id, kekVersion: dataKeysTable.kekVersion, wrappedKey: dataKeysTable.wrappedKey };

/** Data-encryption keys (DEKs) as stored: wrapped under a master key (KEK). */
export function createDataKeysRepository({ db }: { db: Executor }) {
  return {
    /** Serializes the creation of a namespace's first DEK across instances (to commit). */
    async lockNamespace({ tx, namespace }: { tx: Executor; namespace: string }): Promise<void> {
      await tx.execute(sql`select pg_advisory_xact_lock(${NAMESPACE_DEK_LOCK}, hashtext(${namespace}))`);
    },

    async newestOfNamespace({ tx, namespace }: { tx: Executor; namespace: string }): Promise<WrappedDek | undefined> {
      const [r] = await tx
        .select(wrappedColumns)
        .from(dataKeysTable)
        .where(eq(dataKeysTable.namespace, namespace))
        .orderBy(desc(dataKeysTable.createdAt), asc(dataKeysTable.id))
        .limit(1);
      return r;
    },

    /** Inserts a DEK; false when a subject's DEK exists already (another writer won). */
    async insert({
      tx,
      row,
    }: {
      tx: Executor;
      row: Pick<DataKeyRow, 'id' | 'namespace' | 'subjectHmac' | 'kekVersion' | 'wrappedKey'>;
    }): Promise<boolean> {
      const r = await tx.insert(dataKeysTable).values(row).onConflictDoNothing().returning({ id: dataKeysTable.id });
      return r.length > 0;
    },

    /**
     * The subjects' DEKs, locked FOR SHARE in subject order. The array parameter keeps it one
     * parameter however many subjects a flush carries.
     */
    async lockForSubjects({
      tx,
      subjectHmacs,
    }: {
      tx: Executor;
      subjectHmacs: Buffer[];
    }): Promise<(WrappedDek & { subjectHmac: Buffer })[]> {
      const found = await tx
        .select({ ...wrappedColumns, subjectHmac: dataKeysTable.subjectHmac })
        .from(dataKeysTable)
        .where(sql`${dataKeysTable.subjectHmac} = any(${sql.param(subjectHmacs)}::bytea[])`)
        .orderBy(asc(dataKeysTable.subjectHmac))
        .for('share');
      return found.map((r) => ({ ...r, subjectHmac: r.subjectHmac! }));
    },

    async byIds({ ids }: { ids: string[] }): Promise<WrappedDek[]> {
      return db.select(wrappedColumns).from(dataKeysTable).where(inArray(dataKeysTable.id, ids));
    },
  };
}

export type DataKeysRepository = ReturnType<typeof createDataKeysRepository>;

import { asc, count, ne, sql } from 'drizzle-orm';
import type { Executor } from '../client.js';
import { dataKeysTable } from '../schema.js';
import type { WrappedDek } from './data-keys-repository.js';

/** The master-key (KEK) side of the data keys: which KEK version wraps how many, and rewrapping. */
export function createKeysRepository({ db }: { db: Executor }) {
  return {
    /** How many DEKs each KEK version wraps. */
    async dekCountsByKekVersion({ tx = db }: { tx?: Executor } = {}): Promise<Map<number, number>> {
      const r = await tx
        .select({ v: dataKeysTable.kekVersion, n: count() })
        .from(dataKeysTable)
        .groupBy(dataKeysTable.kekVersion)
        .orderBy(asc(dataKeysTable.kekVersion));
      return new Map(r.map((x) => [Number(x.v), Number(x.n)]));
    },

    /**
     * Locks up to `limit` DEKs not under `active`, in id order. SKIP LOCKED: keys a tokenize or
     * erasure holds right now are left for a later round, instead of waiting (or deadlocking
     * against their lock order).
     */
    async lockNotUnder({ tx, active, limit }: { tx: Executor; active: number; limit: number }): Promise<WrappedDek[]> {
      return tx
        .select({ id: dataKeysTable.id, kekVersion: dataKeysTable.kekVersion, wrappedKey: dataKeysTable.wrappedKey })
        .from(dataKeysTable)
        .where(ne(dataKeysTable.kekVersion, active))
        .orderBy(asc(dataKeysTable.id))
        .limit(limit)
        .for('update', { skipLocked: true });
    },

    /** Stores rewrapped DEKs (pairs by position), in one statement of array parameters. */
    async setWrapped({
      tx,
      kekVersion,
      ids,
      wrapped,
    }: {
      tx: Executor;
      kekVersion: number;
      ids: string[];
      wrapped: Buffer[];
    }): Promise<void> {
      await tx.execute(sql`
        update data_keys d set wrapped_key = u.w, kek_version = ${kekVersion}
        from unnest(${sql.param(ids)}::uuid[], ${sql.param(wrapped)}::bytea[]) as u(id, w)
        where d.id = u.id`);
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;

import { randomUUID, type KeyObject } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Db, type Executor } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import type { Keyring } from '../crypto/keyring.js';
import { DecryptionFailedError } from '../crypto/errors.js';

interface DekRow {
  id: string;
  kek_version: number;
  wrapped_key: Buffer | Uint8Array;
  subject_hmac?: Buffer | Uint8Array | null;
}

const NAMESPACE_DEK_LOCK = 7210003;
/** How long an instance keeps using a namespace's DEK before looking for a newer one. */
export const NAMESPACE_DEK_TTL_MS = 30_000;

/**
 * DEKs: created wrapped under the active KEK, unwrapped once per process and cached by id.
 * A cached key is only a copy: the rows decide what exists (erasure drops the row, and the
 * mappings under it with it).
 */
export function createDataKeys(opts: { db: Db; keyring: Keyring }) {
  const { db, keyring } = opts;
  const unwrapped = new Map<string, KeyObject>();
  const namespaceDeks = new Map<string, { id: string; at: number }>();

  function unwrapRow(r: DekRow): KeyObject {
    let k = unwrapped.get(r.id);
    if (!k) {
      k = keyring.unwrapDek(r.id, Number(r.kek_version), toBuffer(r.wrapped_key));
      unwrapped.set(r.id, k);
    }
    return k;
  }

  async function insertDek(ex: Executor, fields: { namespace: string | null; subjectHmac: Buffer | null }): Promise<{ id: string; key: KeyObject; inserted: boolean }> {
    const id = randomUUID();
    const { key, wrapped, kekVersion } = keyring.newDek(id);
    const r = await rows<{ id: string }>(ex, sql`
      insert into data_keys (id, namespace, subject_hmac, kek_version, wrapped_key)
      values (${id}, ${fields.namespace}, ${fields.subjectHmac}, ${kekVersion}, ${wrapped})
      on conflict do nothing returning id`);
    if (r.length) unwrapped.set(id, key);
    return { id, key, inserted: r.length > 0 };
  }

  return {
    /** The newest DEK of a namespace, created (once, across instances) on first use. */
    async namespaceDek(ns: string): Promise<{ id: string; key: KeyObject }> {
      const known = namespaceDeks.get(ns);
      if (known && Date.now() - known.at < NAMESPACE_DEK_TTL_MS && unwrapped.has(known.id)) return { id: known.id, key: unwrapped.get(known.id)! };
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${NAMESPACE_DEK_LOCK}, hashtext(${ns}))`);
        const [r] = await rows<DekRow>(tx, sql`select id, kek_version, wrapped_key from data_keys where namespace = ${ns} order by created_at desc, id limit 1`);
        const dek = r ? { id: r.id, key: unwrapRow(r) } : await insertDek(tx, { namespace: ns, subjectHmac: null });
        namespaceDeks.set(ns, { id: dek.id, at: Date.now() });
        return { id: dek.id, key: dek.key };
      });
    },

    /** Starts a new DEK for a namespace: new values use it, old ones keep theirs. */
    async rotateNamespaceDek(ex: Executor, ns: string): Promise<string> {
      const dek = await insertDek(ex, { namespace: ns, subjectHmac: null });
      namespaceDeks.delete(ns);
      return dek.id;
    },

    /**
     * Subject DEKs for a transaction that will write under them: existing rows are locked FOR SHARE
     * (an erasure deleting one waits for this transaction, or this one sees it gone), missing ones
     * are created. Sorted, so concurrent batches lock in the same order.
     */
    async lockSubjectDeks(tx: Executor, hmacs: Buffer[]): Promise<Map<string, { id: string; key: KeyObject }>> {
      const out = new Map<string, { id: string; key: KeyObject }>();
      const sorted = [...new Map(hmacs.map((h) => [h.toString('hex'), h])).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      for (let attempt = 0; attempt < 3 && out.size < sorted.length; attempt++) {
        const missing = sorted.filter(([hex]) => !out.has(hex));
        const found = await rows<DekRow>(tx, sql`
          select id, kek_version, wrapped_key, subject_hmac from data_keys
          where subject_hmac = any(${sql.param(missing.map(([, h]) => h))}::bytea[])
          order by subject_hmac for share`);
        for (const r of found) out.set(toBuffer(r.subject_hmac!).toString('hex'), { id: r.id, key: unwrapRow(r) });
        for (const [hex, h] of missing) {
          if (out.has(hex)) continue;
          const created = await insertDek(tx, { namespace: null, subjectHmac: h });
          // Lost a race with another creator: the next round reads and locks the winner's row.
          if (created.inserted) out.set(hex, { id: created.id, key: created.key });
        }
      }
      if (out.size < sorted.length) throw new Error('could not obtain subject keys');
      return out;
    },

    /** Unwrapped DEKs for decryption, by id. A missing row means the key was destroyed. */
    async keysById(ids: string[]): Promise<Map<string, KeyObject>> {
      const out = new Map<string, KeyObject>();
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const k = unwrapped.get(id);
        if (k) out.set(id, k);
        else missing.push(id);
      }
      if (missing.length) {
        const found = await rows<DekRow>(db, sql`select id, kek_version, wrapped_key from data_keys where id = any(${sql.param(missing)}::uuid[])`);
        for (const r of found) out.set(r.id, unwrapRow(r));
      }
      for (const id of ids) if (!out.has(id)) throw new DecryptionFailedError();
      return out;
    },

    forget(ids?: Iterable<string>): void {
      if (!ids) {
        unwrapped.clear();
        namespaceDeks.clear();
        return;
      }
      for (const id of ids) unwrapped.delete(id);
    },
  };
}

export type DataKeys = ReturnType<typeof createDataKeys>;

import { randomUUID, type KeyObject } from 'node:crypto';
import type { Db, Executor } from '../db/client.js';
import type { DataKeysRepository, WrappedDek } from '../db/repositories/data-keys-repository.js';
import type { Keyring } from '../crypto/keyring.js';
import { DecryptionFailedError } from '../crypto/errors.js';

/** How long an instance keeps using a namespace's DEK before looking for a newer one. */
export const NAMESPACE_DEK_TTL_MS = 30_000;

/**
 * DEKs: created wrapped under the active KEK, unwrapped once per process and cached by id.
 * A cached key is only a copy: the rows decide what exists (erasure drops the row, and the
 * mappings under it with it).
 */
export function createDataKeys(opts: { db: Db; keyring: Keyring; repo: DataKeysRepository }) {
  const { db, keyring, repo } = opts;
  const unwrapped = new Map<string, KeyObject>();
  const namespaceDeks = new Map<string, { id: string; at: number }>();

  function unwrapRow(r: WrappedDek): KeyObject {
    let k = unwrapped.get(r.id);
    if (!k) {
      k = keyring.unwrapDek(r.id, r.kekVersion, r.wrappedKey);
      unwrapped.set(r.id, k);
    }
    return k;
  }

  async function insertDek(
    ex: Executor,
    fields: { namespace: string | null; subjectHmac: Buffer | null },
  ): Promise<{ id: string; key: KeyObject; inserted: boolean }> {
    const id = randomUUID();
    const { key, wrapped, kekVersion } = keyring.newDek(id);
    const inserted = await repo.insert({
      tx: ex,
      row: { id, namespace: fields.namespace, subjectHmac: fields.subjectHmac, kekVersion, wrappedKey: wrapped },
    });
    if (inserted) unwrapped.set(id, key);
    return { id, key, inserted };
  }

  return {
    /** The newest DEK of a namespace, created (once, across instances) on first use. */
    async namespaceDek(ns: string): Promise<{ id: string; key: KeyObject }> {
      const known = namespaceDeks.get(ns);
      if (known && Date.now() - known.at < NAMESPACE_DEK_TTL_MS && unwrapped.has(known.id))
        return { id: known.id, key: unwrapped.get(known.id)! };
      return db.transaction(async (tx) => {
        await repo.lockNamespace({ tx, namespace: ns });
        const r = await repo.newestOfNamespace({ tx, namespace: ns });
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
        const found = await repo.lockForSubjects({ tx, subjectHmacs: missing.map(([, h]) => h) });
        for (const r of found) out.set(r.subjectHmac.toString('hex'), { id: r.id, key: unwrapRow(r) });
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
        const found = await repo.byIds({ ids: missing });
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

import { decrypt, encrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import type { RandomSource } from '../crypto/random.js';
import type { Executor } from '../db/client.js';
import type { SubjectLinksRepository } from '../db/repositories/subject-links-repository.js';
import { toBuffer } from '../db/schema.js';
import type { DataKeys } from './data-keys.js';

/** A mapping locked by an erasure of subject S whose only copy is under S's key (a pre-0006 row). */
export interface LegacyRow {
  id: number;
  namespace: string;
  type: string;
  token: string;
  ciphertext: Buffer | Uint8Array;
}

/**
 * Before per-link copies, a value's one ciphertext was under the key of the first subject that
 * tokenized it, and later subjects' links had no copy. Erasing that first subject destroys its key:
 * for a value other subjects still hold, each of them first gets its own copy (under its own key),
 * and the mapping's copy goes. Runs inside the erasure, with S's key and these mappings locked.
 */
export async function handOverLegacyCopies(
  tx: Executor,
  deps: { keyring: Keyring; dataKeys: DataKeys; rng: RandomSource; subjectLinks: SubjectLinksRepository },
  erased: { hmac: Buffer; key: { id: string; kek_version: number; wrapped_key: Buffer | Uint8Array } },
  legacy: LegacyRow[],
): Promise<void> {
  const { copyless, shared } = await deps.subjectLinks.otherHolders({
    tx,
    mappingIds: legacy.map((r) => Number(r.id)),
    except: erased.hmac,
  });
  // Held by this subject alone: the erasure deletes it, copy and all.
  if (!shared.length) return;
  const subjectDeks = copyless.length
    ? await deps.dataKeys.lockSubjectDeks(
        tx,
        copyless.map((o) => o.subjectHmac),
      )
    : new Map();
  const sKey = deps.keyring.unwrapDek(erased.key.id, Number(erased.key.kek_version), toBuffer(erased.key.wrapped_key));
  const byId = new Map(legacy.map((r) => [Number(r.id), r]));
  const links = { subjectHmac: [] as Buffer[], mappingId: [] as number[], dekId: [] as string[], ciphertext: [] as Buffer[] };
  for (const o of copyless) {
    const r = byId.get(o.mappingId)!;
    const aad = valueAad(r.namespace, r.type, r.token);
    const dek = subjectDeks.get(o.subjectHmac.toString('hex'))!;
    links.subjectHmac.push(o.subjectHmac);
    links.mappingId.push(o.mappingId);
    links.dekId.push(dek.id);
    links.ciphertext.push(encrypt(dek.key, decrypt(sKey, toBuffer(r.ciphertext), aad), aad, deps.rng));
  }
  await deps.subjectLinks.handOver({ tx, links, mappingIds: shared });
}

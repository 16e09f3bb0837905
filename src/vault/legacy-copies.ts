import { decrypt, encrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import { hotQuery, type Executor } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import type { RandomSource } from '../crypto/random.js';
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
  deps: { keyring: Keyring; dataKeys: DataKeys; rng: RandomSource },
  erased: { hmac: Buffer; key: { id: string; kek_version: number; wrapped_key: Buffer | Uint8Array } },
  legacy: LegacyRow[],
): Promise<void> {
  const others = await hotQuery<{ mapping_id: number | string; subject_hmac: Buffer | Uint8Array }>(tx, 'tv_legacy_links', 'select mapping_id, subject_hmac from subject_links where mapping_id = any($1::bigint[]) and subject_hmac <> $2 and ciphertext is null order by mapping_id, subject_hmac', [legacy.map((r) => r.id), erased.hmac]);
  const shared = await hotQuery<{ id: number | string }>(tx, 'tv_legacy_shared', 'select distinct mapping_id as id from subject_links where mapping_id = any($1::bigint[]) and subject_hmac <> $2', [legacy.map((r) => r.id), erased.hmac]);
  if (!shared.length) return;
  const subjectDeks = others.length ? await deps.dataKeys.lockSubjectDeks(tx, others.map((o) => toBuffer(o.subject_hmac))) : new Map();
  const sKey = deps.keyring.unwrapDek(erased.key.id, Number(erased.key.kek_version), toBuffer(erased.key.wrapped_key));
  const byId = new Map(legacy.map((r) => [Number(r.id), r]));
  const cols = { hmac: [] as Buffer[], id: [] as number[], dek: [] as string[], ct: [] as Buffer[] };
  for (const o of others) {
    const r = byId.get(Number(o.mapping_id))!;
    const aad = valueAad(r.namespace, r.type, r.token);
    const dek = subjectDeks.get(toBuffer(o.subject_hmac).toString('hex'))!;
    cols.hmac.push(toBuffer(o.subject_hmac));
    cols.id.push(r.id);
    cols.dek.push(dek.id);
    cols.ct.push(encrypt(dek.key, decrypt(sKey, toBuffer(r.ciphertext), aad), aad, deps.rng));
  }
  if (cols.id.length) {
    await hotQuery(tx, 'tv_legacy_fill', `update subject_links l set dek_id = u.dek, ciphertext = u.ct
      from unnest($1::bytea[], $2::bigint[], $3::uuid[], $4::bytea[]) as u(hmac, id, dek, ct)
      where l.subject_hmac = u.hmac and l.mapping_id = u.id`, [cols.hmac, cols.id, cols.dek, cols.ct]);
  }
  await hotQuery(tx, 'tv_legacy_drop', 'update mappings set dek_id = null, ciphertext = null where id = any($1::bigint[])', [shared.map((r) => Number(r.id))]);
}

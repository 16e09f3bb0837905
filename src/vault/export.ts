import { sql } from 'drizzle-orm';
import { decrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import { rows, type Db } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import type { AuditWriter } from './audit-writer.js';
import type { DataKeys } from './data-keys.js';
import { mayUseNamespace, maxRevealLevel, type Principal } from './principal.js';

export interface ExportedToken {
  namespace: string;
  type: string;
  token: string;
  createdAt: string;
  value?: string;
}

/** Art. 15 / portability: what the vault holds for a subject, values only where plainly allowed. */
export function createExporter(deps: { db: Db; keyring: Keyring; dataKeys: DataKeys; audit: AuditWriter }) {
  return {
    async exportSubject(args: { principal: Principal; subject: string; purpose: string; requestId: string }): Promise<ExportedToken[]> {
      const hmac = deps.keyring.subjectHmac(args.subject);
      // The subject's own copy, under its key (links written before per-link copies existed have
      // none: the mapping's copy serves them).
      const all = await rows<{ namespace: string; type: string; token: string; created_at: Date | string; dek_id: string; ciphertext: Buffer | Uint8Array; subject_key: string | null }>(deps.db, sql`
        select m.namespace, m.type, m.token, m.created_at, coalesce(l.dek_id, m.dek_id) as dek_id, coalesce(l.ciphertext, m.ciphertext) as ciphertext, l.dek_id as subject_key
        from subject_links l join mappings m on m.id = l.mapping_id
        where l.subject_hmac = ${hmac} order by m.namespace, m.type, m.created_at, m.token`);
      const found = all.filter((r) => mayUseNamespace(args.principal, r.namespace));
      const plain = found.filter((r) => maxRevealLevel(args.principal, r.type) === 'plain');
      const keys = await deps.dataKeys.keysById(plain.map((r) => r.dek_id));
      const out = found.map((r): ExportedToken => {
        const e: ExportedToken = { namespace: r.namespace, type: r.type, token: r.token, createdAt: new Date(r.created_at).toISOString() };
        if (maxRevealLevel(args.principal, r.type) === 'plain') {
          e.value = decrypt(keys.get(r.dek_id)!, toBuffer(r.ciphertext), valueAad(r.namespace, r.type, r.token)).toString('utf8');
        }
        return e;
      });
      const event = { requestId: args.requestId, actor: args.principal.id, action: 'subject.export', purpose: args.purpose };
      // The subject is named by its data key's id, never its HMAC: the key dies with an erasure and
      // a returning subject gets a new one, so this row cannot be re-linked to their new records.
      const subjectKey = all.find((r) => r.subject_key !== null)?.subject_key;
      const details = { ...(subjectKey ? { subjectKey } : {}), tokens: out.length, valuesRevealed: plain.length };
      await deps.audit.commit({
        events: [{ ...event, outcome: 'success', details }],
        reveal: { principal: args.principal, count: plain.length, refusedEvent: { ...event, outcome: 'budget_exceeded', details } },
      });
      return out;
    },
  };
}

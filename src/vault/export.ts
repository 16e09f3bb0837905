import { DecryptionFailedError } from '../crypto/errors.js';
import { toBuffer } from '../db/schema.js';
import { decrypt } from '../crypto/aead.js';
import { valueAad, type Keyring } from '../crypto/keyring.js';
import type { SubjectLinksRepository } from '../db/repositories/subject-links-repository.js';
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
export function createExporter(deps: { subjectLinks: SubjectLinksRepository; keyring: Keyring; dataKeys: DataKeys; audit: AuditWriter }) {
  return {
    async exportSubject(args: { principal: Principal; subject: string; purpose: string; requestId: string }): Promise<ExportedToken[]> {
      const hmac = deps.keyring.subjectHmac(args.subject);
      const all = await deps.subjectLinks.mappingsOf({ subjectHmac: hmac });
      const found = all.filter((r) => mayUseNamespace(args.principal, r.namespace));
      const plain = found.filter((r) => maxRevealLevel(args.principal, r.type) === 'plain');
      if (plain.some((r) => !r.dekId || !r.ciphertext)) throw new DecryptionFailedError();
      const keys = await deps.dataKeys.keysById(plain.map((r) => r.dekId!));
      const out = found.map((r): ExportedToken => {
        const e: ExportedToken = { namespace: r.namespace, type: r.type, token: r.token, createdAt: r.createdAt.toISOString() };
        if (maxRevealLevel(args.principal, r.type) === 'plain') {
          e.value = decrypt(keys.get(r.dekId!)!, toBuffer(r.ciphertext!), valueAad(r.namespace, r.type, r.token)).toString('utf8');
        }
        return e;
      });
      const event = { requestId: args.requestId, actor: args.principal.id, action: 'subject.export', purpose: args.purpose };
      // The subject is named by its data key's id, never its HMAC: the key dies with an erasure and
      // a returning subject gets a new one, so this row cannot be re-linked to their new records.
      const subjectKey = all.find((r) => r.subjectKey !== null)?.subjectKey;
      const details = { ...(subjectKey ? { subjectKey } : {}), tokens: out.length, valuesRevealed: plain.length };
      await deps.audit.commit({
        events: [{ ...event, outcome: 'success', details }],
        reveal: { principal: args.principal, count: plain.length, refusedEvent: { ...event, outcome: 'budget_exceeded', details } },
      });
      return out;
    },
  };
}

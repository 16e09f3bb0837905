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
      const found = (await deps.subjectLinks.mappingsOf({ subjectHmac: hmac })).filter((r) => mayUseNamespace(args.principal, r.namespace));
      const plain = found.filter((r) => maxRevealLevel(args.principal, r.type) === 'plain');
      const keys = await deps.dataKeys.keysById(plain.map((r) => r.dekId));
      const out = found.map((r): ExportedToken => {
        const e: ExportedToken = { namespace: r.namespace, type: r.type, token: r.token, createdAt: r.createdAt.toISOString() };
        if (maxRevealLevel(args.principal, r.type) === 'plain') {
          e.value = decrypt(keys.get(r.dekId)!, r.ciphertext, valueAad(r.namespace, r.type, r.token)).toString('utf8');
        }
        return e;
      });
      const event = { requestId: args.requestId, actor: args.principal.id, action: 'subject.export', purpose: args.purpose };
      const details = { subjectHmac: hmac.toString('hex'), tokens: out.length, valuesRevealed: plain.length };
      await deps.audit.commit({
        events: [{ ...event, outcome: 'success', details }],
        reveal: { principal: args.principal, count: plain.length, refusedEvent: { ...event, outcome: 'budget_exceeded', details } },
      });
      return out;
    },
  };
}

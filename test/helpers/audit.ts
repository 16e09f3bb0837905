import { verifyAuditLog } from '../../src/audit/audit-reader.js';
import type { VerifyResult } from '../../src/audit/verify.js';
import type { TestVault } from './vault.js';

/** Seals what has committed (this vault must be the sealer), then verifies the whole log. */
export async function sealAndVerify(v: TestVault, opts: { now?: Date } = {}): Promise<VerifyResult> {
  await v.services.sealer.sealNow();
  return verifyAuditLog(v.handle.db, { publicKey: v.services.vault.auditPublicKey(), boundMs: v.services.sealer.boundMs, now: opts.now });
}

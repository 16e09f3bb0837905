import { createHash } from 'node:crypto';
import { canonicalJson } from '../crypto/signing.js';

export const GENESIS_HASH = Buffer.alloc(32);

export interface AuditRow {
  id: number;
  ts: Date;
  requestId: string | null;
  actor: string;
  action: string;
  outcome: string;
  namespace: string | null;
  purpose: string | null;
  details: Record<string, unknown>;
  erasureId: string | null;
}

/**
 * Versioned canonical form of a row: every column but the hashes, keys sorted, ts in ISO form.
 * Written out key by key (this runs once per audit row, on every request); it must equal
 * canonicalRowGeneric byte for byte, which a property test checks.
 */
export function canonicalRow(r: AuditRow): string {
  const s = JSON.stringify;
  return `{"action":${s(r.action)},"actor":${s(r.actor)},"details":${canonicalJson(r.details)},"erasureId":${s(r.erasureId)},"id":${r.id},"namespace":${s(r.namespace)},"outcome":${s(r.outcome)},"purpose":${s(r.purpose)},"requestId":${s(r.requestId)},"ts":${s(r.ts.toISOString())},"v":1}`;
}

/** The definition of the canonical row: canonical JSON of the row with v = 1. */
export function canonicalRowGeneric(r: AuditRow): string {
  return canonicalJson({
    v: 1,
    id: r.id,
    ts: r.ts.toISOString(),
    requestId: r.requestId,
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
    namespace: r.namespace,
    purpose: r.purpose,
    details: r.details,
    erasureId: r.erasureId,
  });
}

export function chainHash(prev: Buffer, row: AuditRow): Buffer {
  return chainHashOf(prev, canonicalRow(row));
}

/** The hash of a row given its canonical form. */
export function chainHashOf(prev: Buffer, canonical: string): Buffer {
  return createHash('sha256').update(prev).update(canonical).digest();
}

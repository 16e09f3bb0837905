import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../crypto/signing.js';
import { leafHash } from './merkle.js';

/** What callers record; id, time and MAC are assigned on append. */
export interface AuditEvent {
  requestId?: string | null;
  actor: string;
  action: string;
  outcome: string;
  namespace?: string | null;
  purpose?: string | null;
  details?: Record<string, unknown>;
  erasureId?: string | null;
}

/** A row as stored, before its seal. */
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
 * The sealer's check of a row's MAC, signed into its leaf: `ok`; `forged` (missing or wrong: the
 * vault did not write this row, or not with this content); `replayed` (a copy of another row's
 * MAC); `legacy` (no MAC, written before sealing existed: allowed only before any other verdict).
 */
export type Verdict = 'ok' | 'forged' | 'replayed' | 'legacy';
export const VERDICTS: readonly Verdict[] = ['ok', 'forged', 'replayed', 'legacy'];

export const NONCE_BYTES = 16;
export const TAG_BYTES = 32;
export const MAC_BYTES = NONCE_BYTES + TAG_BYTES;
/** Rows with a nonce each, so two equal events (one token revealed twice in a request) differ. */
const MAC_INFO = 'tokenvault audit row mac v1';

/** The row MAC key: derived from the audit signing key, so one secret configures both. */
export function deriveMacKey(auditSigningKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', auditSigningKey, Buffer.alloc(0), MAC_INFO, 32));
}

/**
 * Versioned canonical form of what a row's MAC covers: every column the caller chose, not the
 * id (assigned by the database on insert). Written out key by key (once per row, on every
 * request); it equals canonicalJson of the same object, which a property test checks.
 */
export function canonicalContent(r: Omit<AuditRow, 'id'>): string {
  const s = JSON.stringify;
  return `{"action":${s(r.action)},"actor":${s(r.actor)},"details":${canonicalJson(r.details)},"erasureId":${s(r.erasureId)},"namespace":${s(r.namespace)},"outcome":${s(r.outcome)},"purpose":${s(r.purpose)},"requestId":${s(r.requestId)},"ts":${s(r.ts.toISOString())},"v":1}`;
}

export function rowMac(key: Buffer, nonce: Buffer, content: string): Buffer {
  return Buffer.concat([nonce, createHmac('sha256', key).update(nonce).update(content).digest()]);
}

/** True when `mac` is a MAC of the row under `key`. */
export function macValid(key: Buffer, mac: Buffer, row: Omit<AuditRow, 'id'>): boolean {
  if (mac.length !== MAC_BYTES) return false;
  return timingSafeEqual(rowMac(key, mac.subarray(0, NONCE_BYTES), canonicalContent(row)), mac);
}

/** The leaf data of a sealed row: the row, its place and the sealer's verdict. */
export function leafData(r: AuditRow, seq: number, verdict: Verdict): string {
  return canonicalJson({
    v: 1,
    seq,
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
    verdict,
  });
}

export function rowLeaf(r: AuditRow, seq: number, verdict: Verdict): Buffer {
  return leafHash(leafData(r, seq, verdict));
}

/** A checkpoint as published: hashes in hex, time in ISO 8601. */
export interface Checkpoint {
  first: number;
  last: number;
  root: string;
  prev: string;
  ts: string;
  kid: string;
  signature: string;
}

export const GENESIS_PREV = '0'.repeat(64);
export const LOG_NAME = 'tokenvault-audit';

/** The bytes a checkpoint's signature covers. */
export function checkpointBody(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(
    canonicalJson({ v: 1, log: LOG_NAME, first: c.first, last: c.last, root: c.root, prev: c.prev, ts: c.ts, kid: c.kid }),
  );
}

/** What the next checkpoint's `prev` must be. */
export function checkpointHash(c: Omit<Checkpoint, 'signature'>): string {
  return createHash('sha256').update(checkpointBody(c)).digest('hex');
}

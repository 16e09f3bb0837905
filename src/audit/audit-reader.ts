import type { JsonWebKey } from 'node:crypto';
import type { Executor } from '../db/client.js';
import { auditRow, checkpointOf, latestCheckpoint, leavesOf, listCheckpoints, sealedPage, unsealedRows } from './audit-log.js';
import { inclusionPath } from './merkle.js';
import type { AuditRow, Checkpoint } from './records.js';
import { createLogVerifier, type Anchor, type AuditProof, type SealedInput, type UnsealedInput, type VerifyResult } from './verify.js';

const PAGE = 5000;
/** Unsealed rows read for a verdict: enough to name the first bad one. */
const UNSEALED_LIMIT = 10_000;

/**
 * Unsealed rows count against the log once older than twice the sealing bound: a verify racing
 * the sealer must not report a row that is merely in flight.
 */
export const unsealedLimitMs = (boundMs: number) => 2 * boundMs;

/**
 * Verifies the log in the database against the public key. Checkpoints are read first and rows
 * only up to the last of them, so rows sealed meanwhile are not mistaken for uncovered ones.
 */
export async function verifyAuditLog(
  ex: Executor,
  opts: { publicKey: JsonWebKey & { kid?: string }; boundMs: number; anchor?: Anchor | undefined; now?: Date },
): Promise<VerifyResult> {
  const checkpoints = await listCheckpoints(ex);
  const upTo = checkpoints[checkpoints.length - 1]?.last ?? 0;
  const verifier = createLogVerifier({ publicKey: opts.publicKey, checkpoints, anchor: opts.anchor });
  for (let after = 0; ;) {
    const page = await sealedPage(ex, after, upTo, PAGE);
    if (!page.every((e) => verifier.add(e)) || page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  // A seal that no checkpoint covers, even now, was inserted around the sealer (which writes a
  // batch's seals and its checkpoint in one transaction).
  const covered = (await latestCheckpoint(ex))?.last ?? 0;
  const [stray] = await sealedPage(ex, Math.max(covered, upTo), Number.MAX_SAFE_INTEGER, 1);
  if (stray) verifier.add(stray);
  return verifier.finish(await unsealedRows(ex, UNSEALED_LIMIT), {
    now: opts.now ?? new Date(),
    maxUnsealedAgeMs: unsealedLimitMs(opts.boundMs),
  });
}

export function proofRow(row: AuditRow, seq: number, verdict: string): AuditProof['row'] {
  return { ...row, ts: row.ts.toISOString(), seq, verdict };
}

export type ProofLookup = { status: 'ok'; proof: AuditProof } | { status: 'not_found' } | { status: 'unsealed' };

/** The inclusion proof of row `id` in its signed checkpoint. */
export async function proofOf(ex: Executor, id: number): Promise<ProofLookup> {
  const found = await auditRow(ex, id);
  if (!found) return { status: 'not_found' };
  if (found.seq === null || found.verdict === null) return { status: 'unsealed' };
  const checkpoint = await checkpointOf(ex, found.seq);
  if (!checkpoint) return { status: 'unsealed' };
  const leaves = await leavesOf(ex, checkpoint.first, checkpoint.last);
  const leafIndex = found.seq - checkpoint.first;
  return {
    status: 'ok',
    proof: {
      v: 1,
      row: proofRow(found.row, found.seq, found.verdict),
      leafIndex,
      treeSize: leaves.length,
      path: inclusionPath(leaves, leafIndex).map((h) => h.toString('hex')),
      checkpoint,
    },
  };
}

/** One line of a verifiable export (NDJSON). */
export type ExportLine =
  | { kind: 'header'; v: 1; exportedAt: string; boundMs: number }
  | ({ kind: 'checkpoint' } & Checkpoint)
  | {
      kind: 'row';
      seq: number | null;
      eventId: number;
      verdict: string | null;
      leaf: string | null;
      row: (Omit<AuditRow, 'ts'> & { ts: string }) | null;
    };

/** Writes the whole log: header, checkpoints, sealed rows in seq order, then unsealed rows. */
export async function exportAuditLog(ex: Executor, boundMs: number, write: (line: ExportLine) => void): Promise<number> {
  write({ kind: 'header', v: 1, exportedAt: new Date().toISOString(), boundMs });
  const checkpoints = await listCheckpoints(ex);
  for (const c of checkpoints) write({ kind: 'checkpoint', ...c });
  const upTo = checkpoints[checkpoints.length - 1]?.last ?? 0;
  let n = 0;
  for (let after = 0; ;) {
    const page = await sealedPage(ex, after, upTo, PAGE);
    for (const e of page)
      write({
        kind: 'row',
        seq: e.seq,
        eventId: e.eventId,
        verdict: e.verdict,
        leaf: e.leaf.toString('hex'),
        row: e.row ? { ...e.row, ts: e.row.ts.toISOString() } : null,
      });
    n += page.length;
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  for (const u of await unsealedRows(ex, UNSEALED_LIMIT)) {
    write({ kind: 'row', seq: null, eventId: u.row.id, verdict: null, leaf: null, row: { ...u.row, ts: u.row.ts.toISOString() } });
    n++;
  }
  return n;
}

/** Verifies an export with only the public key: no database. */
export function verifyExport(lines: readonly ExportLine[], publicKey: JsonWebKey & { kid?: string }, anchor?: Anchor): VerifyResult {
  const header = lines.find((l) => l.kind === 'header');
  const checkpoints = lines
    .filter((l): l is Extract<ExportLine, { kind: 'checkpoint' }> => l.kind === 'checkpoint')
    .map(({ kind: _kind, ...c }) => c);
  const verifier = createLogVerifier({ publicKey, checkpoints, anchor });
  const unsealed: UnsealedInput[] = [];
  for (const l of lines) {
    if (l.kind !== 'row') continue;
    const row: AuditRow | null = l.row ? { ...l.row, ts: new Date(l.row.ts) } : null;
    if (l.seq === null) {
      if (row) unsealed.push({ row, belowHorizon: false });
      continue;
    }
    const e: SealedInput = {
      seq: l.seq,
      eventId: l.eventId,
      leaf: l.leaf ? Buffer.from(l.leaf, 'hex') : null,
      verdict: l.verdict ?? '',
      row,
    };
    if (!verifier.add(e)) break;
  }
  const boundMs = header?.kind === 'header' ? header.boundMs : 1000;
  return verifier.finish(unsealed, {
    now: header?.kind === 'header' ? new Date(header.exportedAt) : new Date(),
    maxUnsealedAgeMs: unsealedLimitMs(boundMs),
  });
}

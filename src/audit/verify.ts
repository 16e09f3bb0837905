import type { JsonWebKey } from 'node:crypto';
import { verifySignature } from '../crypto/signing.js';
import { merkleRoot, rootFromInclusionProof } from './merkle.js';
import {
  checkpointBody,
  checkpointHash,
  GENESIS_PREV,
  rowLeaf,
  VERDICTS,
  type AuditRow,
  type Checkpoint,
  type Verdict,
} from './records.js';

/** Where verification stopped: a seq for a sealed position, an event id for an unsealed row. */
export interface Position {
  seq: number | null;
  eventId: number | null;
}

export type VerifyResult =
  | { ok: true; rowsChecked: number; checkpoints: number; head: Checkpoint | null; unsealed: number }
  | { ok: false; rowsChecked: number; checkpoints: number; brokenAt: Position; reason: string };

/** A sealed position as read back: the stored leaf (null in an export without it) and the row. */
export interface SealedInput {
  seq: number;
  eventId: number;
  leaf: Buffer | null;
  verdict: string;
  row: AuditRow | null;
}

export interface UnsealedInput {
  row: AuditRow;
  belowHorizon: boolean;
}

/** An anchor kept outside the database: a checkpoint's last seq and root. */
export interface Anchor {
  last: number;
  root: string;
}

const VERDICT_FAILURES: Partial<Record<Verdict, string>> = {
  forged: 'the row was not written by the vault (its MAC is missing or wrong)',
  replayed: 'the row is a copy of another row (its MAC was used before)',
};

/**
 * Walks the log in seq order against its signed checkpoints; stops at the first bad position.
 * Feed `sealed` in seq order, then call finish. Detects: an edited row (leaf or root mismatch), a
 * deleted one (its seal names a missing row, or a seq is missing), an inserted one (the sealer
 * marked it forged, or the seqs no longer match the leaves), reordered ones (leaves), a forged or
 * replayed checkpoint (signature, chain of prev hashes, ranges), rows left unsealed too long.
 */
export function createLogVerifier(opts: {
  publicKey: JsonWebKey & { kid?: string };
  checkpoints: readonly Checkpoint[];
  anchor?: Anchor | undefined;
}) {
  const cps = opts.checkpoints;
  let cpIndex = 0;
  let expected = 1;
  let prev = GENESIS_PREV;
  let leaves: Buffer[] = [];
  let legacyAllowed = true;
  let checked = 0;
  let cpChecked = false;
  let failure: { brokenAt: Position; reason: string } | null = null;
  const seen = new Set<number>();

  const fail = (seq: number | null, eventId: number | null, reason: string) => {
    failure = { brokenAt: { seq, eventId }, reason };
    return false;
  };

  function checkCheckpoint(cp: Checkpoint): boolean {
    if (cp.first !== expected || cp.last < cp.first)
      return fail(expected, null, `checkpoint ${cp.first}–${cp.last} does not continue the log at seq ${expected} (forged or replayed)`);
    if (cp.prev !== prev)
      return fail(expected, null, `checkpoint ${cp.first}–${cp.last} does not chain to the previous checkpoint (forged or replayed)`);
    if ((opts.publicKey.kid && cp.kid !== opts.publicKey.kid) || !verifySignature(opts.publicKey, checkpointBody(cp), cp.signature)) {
      return fail(cp.first, null, `checkpoint ${cp.first}–${cp.last} has no valid signature by this key`);
    }
    return true;
  }

  function add(e: SealedInput): boolean {
    if (failure) return false;
    if (e.seq > expected) return fail(expected, null, `the row at seq ${expected} is missing`);
    if (e.seq < expected) return fail(e.seq, e.eventId, `seq ${e.seq} is sealed twice`);
    const cp = cps[cpIndex];
    if (!cp || cp.first > e.seq) return fail(e.seq, e.eventId, `seq ${e.seq} is sealed but in no signed checkpoint`);
    // Each checkpoint is checked when the walk enters it: it must start exactly here.
    if (!cpChecked && !checkCheckpoint(cp)) return false;
    cpChecked = true;
    if (!e.row) return fail(e.seq, e.eventId, `the row sealed at seq ${e.seq} (id ${e.eventId}) has been deleted`);
    if (e.row.id !== e.eventId || seen.has(e.row.id)) return fail(e.seq, e.row.id, `row ${e.row.id} is sealed more than once`);
    seen.add(e.row.id);
    if (!(VERDICTS as readonly string[]).includes(e.verdict))
      return fail(e.seq, e.row.id, `the seal at seq ${e.seq} has an unknown verdict`);
    const verdict = e.verdict as Verdict;
    const leaf = rowLeaf(e.row, e.seq, verdict);
    if (e.leaf && !e.leaf.equals(leaf))
      return fail(e.seq, e.row.id, `the row at seq ${e.seq} (id ${e.row.id}) does not match its seal (edited, or moved)`);
    const verdictFailure =
      VERDICT_FAILURES[verdict] ?? (verdict === 'legacy' && !legacyAllowed ? 'a row without a MAC after rows with one' : undefined);
    if (verdictFailure) return fail(e.seq, e.row.id, `seq ${e.seq} (id ${e.row.id}): ${verdictFailure}`);
    if (verdict !== 'legacy') legacyAllowed = false;
    leaves.push(leaf);
    if (e.seq === cp.last) {
      if (merkleRoot(leaves).toString('hex') !== cp.root)
        return fail(cp.first, null, `the rows of checkpoint ${cp.first}–${cp.last} do not match its signed root`);
      prev = checkpointHash(cp);
      cpIndex++;
      cpChecked = false;
      leaves = [];
    }
    expected++;
    checked++;
    return true;
  }

  function finish(unsealed: readonly UnsealedInput[], at: { now: Date; maxUnsealedAgeMs: number }): VerifyResult {
    const done = (): VerifyResult => ({ ok: false, rowsChecked: checked, checkpoints: cpIndex, ...failure! });
    if (failure) return done();
    const open = cps[cpIndex];
    if (open) {
      if (leaves.length > 0 || open.first === expected) fail(expected, null, `the row at seq ${expected} is missing`);
      else checkCheckpoint(open);
      if (failure) return done();
      fail(open.first, null, `checkpoint ${open.first}–${open.last} does not continue the log`);
      return done();
    }
    if (opts.anchor && !cps.some((c) => c.last === opts.anchor!.last && c.root === opts.anchor!.root)) {
      fail(opts.anchor.last, null, `the anchored checkpoint ending at seq ${opts.anchor.last} is no longer in the log`);
      return done();
    }
    for (const u of unsealed) {
      const age = at.now.getTime() - u.row.ts.getTime();
      if (u.belowHorizon) fail(null, u.row.id, `row ${u.row.id} is unsealed below the sealer's horizon (inserted around the sealer)`);
      else if (age > at.maxUnsealedAgeMs)
        fail(null, u.row.id, `row ${u.row.id} has been unsealed for ${Math.round(age / 1000)} s (limit ${at.maxUnsealedAgeMs / 1000} s)`);
      if (failure) return done();
    }
    return { ok: true, rowsChecked: checked, checkpoints: cpIndex, head: cps[cps.length - 1] ?? null, unsealed: unsealed.length };
  }

  return { add, finish, failed: () => failure !== null };
}

/** An inclusion proof of one audit row in a signed checkpoint (RFC 9162 audit path). */
export interface AuditProof {
  v: 1;
  row: Omit<AuditRow, 'ts'> & { ts: string; seq: number; verdict: string };
  leafIndex: number;
  treeSize: number;
  path: string[];
  checkpoint: Checkpoint;
}

/** Checks a proof with only the public key: the row's leaf leads to the checkpoint's signed root. */
export function verifyProof(proof: AuditProof, publicKey: JsonWebKey & { kid?: string }): { ok: true } | { ok: false; reason: string } {
  const cp = proof.checkpoint;
  if (proof.v !== 1 || !cp || !Array.isArray(proof.path)) return { ok: false, reason: 'not an audit proof' };
  if ((publicKey.kid && cp.kid !== publicKey.kid) || !verifySignature(publicKey, checkpointBody(cp), cp.signature))
    return { ok: false, reason: 'the checkpoint has no valid signature by this key' };
  if (proof.treeSize !== cp.last - cp.first + 1 || proof.row.seq !== cp.first + proof.leafIndex)
    return { ok: false, reason: 'the proof does not match the checkpoint range' };
  if (!(VERDICTS as readonly string[]).includes(proof.row.verdict)) return { ok: false, reason: 'unknown verdict' };
  const { seq, verdict, ...rest } = proof.row;
  const ts = new Date(rest.ts);
  if (isNaN(ts.getTime())) return { ok: false, reason: 'the row has no valid time' };
  const leaf = rowLeaf({ ...rest, ts }, seq, verdict as Verdict);
  const path = proof.path.map((h) => Buffer.from(h, 'hex'));
  const root = rootFromInclusionProof(proof.leafIndex, proof.treeSize, leaf, path);
  if (!root || root.toString('hex') !== cp.root)
    return { ok: false, reason: 'the row is not the one the checkpoint signed (altered, or another row)' };
  const verdictFailure = VERDICT_FAILURES[verdict as Verdict];
  if (verdictFailure) return { ok: false, reason: `the row is in the log, but ${verdictFailure}` };
  return { ok: true };
}

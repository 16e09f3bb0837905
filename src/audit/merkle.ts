import { createHash } from 'node:crypto';

/**
 * The Merkle tree hash of RFC 6962 / RFC 9162 §2.1 (SHA-256, 0x00 leaf and 0x01 node prefixes,
 * so a leaf can never pass for an inner node), its inclusion proofs, and their verification.
 */

export const HASH_BYTES = 32;
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(data: string | Buffer): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

/** The largest power of two smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over leaf hashes (at least one). */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) throw new Error('a Merkle tree needs at least one leaf');
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** PATH(m, D[n]): the audit path of leaf m, from the leaf's sibling up to the root's child. */
export function inclusionPath(leaves: readonly Buffer[], m: number): Buffer[] {
  if (m < 0 || m >= leaves.length) throw new Error('leaf index out of range');
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...inclusionPath(leaves.slice(0, k), m), merkleRoot(leaves.slice(k))]
    : [...inclusionPath(leaves.slice(k), m - k), merkleRoot(leaves.slice(0, k))];
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or null when the proof is malformed. */
export function rootFromInclusionProof(index: number, size: number, leaf: Buffer, path: readonly Buffer[]): Buffer | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  if (leaf.length !== HASH_BYTES || path.some((p) => p.length !== HASH_BYTES)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

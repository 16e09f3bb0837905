import { randomFillSync } from 'node:crypto';

/** A source of uniform random integers; injected so tests can replay sequences. */
export interface RandomSource {
  /** Uniform integer in [0, max), max ≤ 2^32. */
  int(max: number): number;
  bytes(n: number): Buffer;
}

const POOL_BYTES = 64 * 1024;
const UINT32_RANGE = 0x1_0000_0000;

/**
 * CSPRNG with a pooled buffer: one randomFillSync per 64 KiB instead of one per token,
 * so generating tokens costs a few nanoseconds per random draw.
 * Integers use rejection sampling, so there is no modulo bias.
 */
export function createPooledRandom(): RandomSource {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  let offset = POOL_BYTES;

  function take(n: number): Buffer {
    if (n > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(n));
    if (offset + n > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const out = Buffer.from(pool.subarray(offset, offset + n));
    // Bytes handed out are wiped from the pool so they never leak into a later caller.
    pool.fill(0, offset, offset + n);
    offset += n;
    return out;
  }

  function uint32(): number {
    if (offset + 4 > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const v = pool.readUInt32LE(offset);
    offset += 4;
    return v;
  }

  return {
    bytes: take,
    int(max: number): number {
      if (!Number.isInteger(max) || max < 1 || max > UINT32_RANGE) throw new RangeError('max out of range');
      // Largest multiple of max below 2^32: draws at or above it are rejected.
      const limit = UINT32_RANGE - (UINT32_RANGE % max);
      for (;;) {
        const v = uint32();
        if (v < limit) return v % max;
      }
    },
  };
}

import type { RandomSource } from '../../src/crypto/random.js';

/**
 * A scripted RandomSource: `int(max)` returns the next scripted integer (reduced mod max, so a
 * script stays valid whatever ranges a format asks for) and `bytes(n)` the next n bytes of a
 * cycled byte script. Known-answer tests use it to make tokens and IVs exact.
 */
export function fixedRandom(script: { ints?: readonly number[]; bytes?: Buffer } = {}): RandomSource & { draws: number[] } {
  const ints = script.ints ?? [0];
  const bytes = script.bytes ?? Buffer.alloc(1);
  let i = 0;
  let b = 0;
  let calls = 0;
  // A script that can never satisfy a rejection loop must fail the test, not hang it.
  const count = () => {
    if (++calls > 10_000) throw new Error('fixedRandom: more than 10,000 draws');
  };
  const draws: number[] = [];
  return {
    draws,
    int(max) {
      count();
      draws.push(max);
      return ints[i++ % ints.length]! % max;
    },
    bytes(n) {
      count();
      const out = Buffer.alloc(n);
      for (let k = 0; k < n; k++) out[k] = bytes[b++ % bytes.length]!;
      return out;
    },
  };
}

import type { RandomSource } from '../crypto/random.js';

/** The random source lives in crypto/; formats draw from it. Re-exported for existing importers. */
export { createPooledRandom, type RandomSource } from '../crypto/random.js';

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
export const ALPHABETS = {
  digits: DIGITS,
  lower: LOWER,
  upper: UPPER,
  lowerAlnum: LOWER + DIGITS,
  base62: DIGITS + UPPER + LOWER,
} as const;

export function randomString(rng: RandomSource, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[rng.int(alphabet.length)];
  return out;
}

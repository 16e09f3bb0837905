import { ALPHABETS, randomString, type RandomSource } from './random.js';
import { reject } from './types.js';

/** Luhn (mod 10) checksum of a digit string. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Random digits between a kept prefix and a kept suffix, same total length. */
export function keepEnds(value: string, keepFirst: number, keepLast: number, rng: RandomSource): string {
  const free = value.length - keepFirst - keepLast;
  if (free < 1) reject('TOKEN_SPACE_TOO_SMALL', 'kept digits leave nothing to randomize');
  return value.slice(0, keepFirst) + randomString(rng, ALPHABETS.digits, free) + value.slice(value.length - keepLast);
}

export function stripSeparators(v: string): string {
  return v.replace(/[\s\-.]/g, '');
}

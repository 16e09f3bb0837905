import { ALPHABETS } from './random.js';
import { intOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type AlnumOptions = { keepFirst: number; keepLast: number };
const MAX_CODE_POINTS = 256;
const UPPER = /^\p{Lu}$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

export const alnum: TokenFormat<AlnumOptions> = {
  name: 'alnum',
  parseOptions(raw) {
    onlyOptions(raw, ['keepFirst', 'keepLast']);
    return {
      keepFirst: intOption(raw, 'keepFirst', 0, 0, MAX_CODE_POINTS),
      keepLast: intOption(raw, 'keepLast', 0, 0, MAX_CODE_POINTS),
    };
  },
  normalize(value) {
    const v = preclean(value, 4 * MAX_CODE_POINTS).normalize('NFC');
    if ([...v].length > MAX_CODE_POINTS) reject('TOO_LONG', `value exceeds ${MAX_CODE_POINTS} code points`);
    return v;
  },
  /**
   * Letters become random ASCII letters (upper case stays upper, every other letter — lower or
   * caseless — becomes lower case), digits random ASCII digits; everything else is kept.
   */
  generate(v, opts, rng) {
    const chars = [...v];
    const end = chars.length - opts.keepLast;
    return chars
      .map((c, i) => {
        if (i < opts.keepFirst || i >= end) return c;
        if (DIGIT.test(c)) return ALPHABETS.digits[rng.int(10)];
        if (UPPER.test(c)) return ALPHABETS.upper[rng.int(26)];
        if (LETTER.test(c)) return ALPHABETS.lower[rng.int(26)];
        return c;
      })
      .join('');
  },
  mask(v) {
    const [first, ...rest] = [...v];
    // A one-character value would be shown whole: mask it entirely.
    return rest.length === 0 ? '*' : first + '*'.repeat(rest.length);
  },
  maxSpaceLog10: (opts) => (MAX_CODE_POINTS - opts.keepFirst - opts.keepLast) * Math.log10(26),
  valueSpaceLog10(v, opts) {
    const chars = [...v];
    let space = 0;
    chars.forEach((c, i) => {
      if (i < opts.keepFirst || i >= chars.length - opts.keepLast) return;
      if (DIGIT.test(c)) space += 1;
      else if (LETTER.test(c)) space += Math.log10(26);
    });
    return space;
  },
};

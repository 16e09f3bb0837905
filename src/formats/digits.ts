import { keepEnds, stripSeparators } from './digit-utils.js';
import { intOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type DigitsOptions = { keepFirst: number; keepLast: number };
const MIN = 6;
const MAX = 64;

export const digits: TokenFormat<DigitsOptions> = {
  name: 'digits',
  parseOptions(raw) {
    onlyOptions(raw, ['keepFirst', 'keepLast']);
    return { keepFirst: intOption(raw, 'keepFirst', 0, 0, MAX), keepLast: intOption(raw, 'keepLast', 0, 0, MAX) };
  },
  normalize(value, opts) {
    const raw = preclean(value, 256);
    if (!/^[0-9\s\-.]+$/.test(raw)) reject('INVALID_DIGITS', 'value may contain only digits, spaces, dashes and dots');
    const v = stripSeparators(raw);
    if (v.length < MIN || v.length > MAX) reject('INVALID_DIGITS', `value must have ${MIN} to ${MAX} digits`);
    if (v.length <= opts.keepFirst + opts.keepLast) reject('TOKEN_SPACE_TOO_SMALL', 'value is not longer than the kept digits');
    return v;
  },
  generate: (v, opts, rng) => keepEnds(v, opts.keepFirst, opts.keepLast, rng),
  /** Reveals the last quarter of the digits (1 of 6, 4 of 16). */
  mask(v) {
    const shown = Math.floor(v.length / 4);
    return '*'.repeat(v.length - shown) + v.slice(v.length - shown);
  },
  maxSpaceLog10: (opts) => MAX - opts.keepFirst - opts.keepLast,
  valueSpaceLog10: (v, opts) => v.length - opts.keepFirst - opts.keepLast,
};

import { keepEnds, luhnValid, stripSeparators } from './digit-utils.js';
import { enumOption, intOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type CardOptions = { keepFirst: number; keepLast: number; luhn: 'invalid' | 'valid' };
const MIN = 12;
const MAX = 19;

export const card: TokenFormat<CardOptions> = {
  name: 'card',
  parseOptions(raw) {
    onlyOptions(raw, ['keepFirst', 'keepLast', 'luhn']);
    return {
      keepFirst: intOption(raw, 'keepFirst', 0, 0, 6, [0, 6]),
      keepLast: intOption(raw, 'keepLast', 4, 0, 4),
      luhn: enumOption(raw, 'luhn', ['invalid', 'valid'] as const, 'invalid'),
    };
  },
  normalize(value) {
    const raw = preclean(value, 64);
    if (!/^[0-9 -]+$/.test(raw)) reject('INVALID_CARD', 'card number may contain only digits, spaces and dashes');
    const v = stripSeparators(raw);
    if (v.length < MIN || v.length > MAX) reject('INVALID_CARD', `card number must have ${MIN} to ${MAX} digits`);
    if (!luhnValid(v)) reject('INVALID_CARD', 'card number fails the Luhn check');
    return v;
  },
  generate(normalized, opts, rng) {
    // Only the free middle changes: a token is re-drawn until its Luhn state is the one asked for.
    // Luhn-invalid by default, so a token can never be charged as a real card.
    for (;;) {
      const token = keepEnds(normalized, opts.keepFirst, opts.keepLast, rng);
      if (luhnValid(token) === (opts.luhn === 'valid')) return token;
    }
  },
  mask(normalized) {
    const masked = '*'.repeat(normalized.length - 4) + normalized.slice(-4);
    return masked.replace(/(.{4})(?=.)/g, '$1 ');
  },
  maxSpaceLog10: (opts) => MAX - opts.keepFirst - opts.keepLast + Math.log10(opts.luhn === 'valid' ? 0.1 : 0.9),
  valueSpaceLog10: (v, opts) => v.length - opts.keepFirst - opts.keepLast + Math.log10(opts.luhn === 'valid' ? 0.1 : 0.9),
};

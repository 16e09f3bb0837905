import { ALPHABETS, randomString } from './random.js';
import { onlyOptions, preclean, type TokenFormat } from './types.js';

type TextOptions = Record<string, never>;
const TOKEN_CHARS = 22; // 22 base62 characters ≈ 131 bits

export const text: TokenFormat<TextOptions> = {
  name: 'text',
  parseOptions(raw) {
    onlyOptions(raw, []);
    return {};
  },
  normalize: (value) => preclean(value, 64 * 1024).normalize('NFC'),
  generate: (_v, _opts, rng) => `tok_${randomString(rng, ALPHABETS.base62, TOKEN_CHARS)}`,
  mask: () => '****',
  maxSpaceLog10: () => TOKEN_CHARS * Math.log10(62),
  valueSpaceLog10: () => TOKEN_CHARS * Math.log10(62),
};

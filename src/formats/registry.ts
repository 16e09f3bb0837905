import { alnum } from './alnum.js';
import { card } from './card.js';
import { date } from './date.js';
import { digits } from './digits.js';
import { email } from './email.js';
import { ipv4, ipv6 } from './ip.js';
import { phone } from './phone.js';
import { ssn } from './ssn.js';
import { text } from './text.js';
import { FormatError, type Options, type TokenFormat } from './types.js';
import { uuid } from './uuid.js';

export const TOKEN_TYPES = ['email', 'phone', 'ipv4', 'ipv6', 'card', 'ssn', 'uuid', 'date', 'digits', 'alnum', 'text'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

const formats: Record<TokenType, TokenFormat> = {
  email,
  phone,
  ipv4,
  ipv6,
  card,
  ssn,
  uuid,
  date,
  digits,
  alnum,
  text,
} as Record<TokenType, TokenFormat>;

/** Below this many possible tokens, a policy is rejected at load (guessing a value gets too easy). */
export const MIN_SPACE_LOG10 = 6;

export function isTokenType(t: string): t is TokenType {
  return (TOKEN_TYPES as readonly string[]).includes(t);
}

export function getFormat(type: TokenType): TokenFormat {
  return formats[type];
}

/** A type with its options checked and resolved: what the vault uses per (namespace, type). */
export interface BoundFormat {
  readonly type: TokenType;
  readonly options: Options;
  normalize(value: string): string;
  generate(normalized: string, rng: import('./random.js').RandomSource): string;
  mask(normalized: string): string;
  valueSpaceLog10(normalized: string): number;
}

export function bindFormat(type: TokenType, rawOptions: Options = {}): BoundFormat {
  const f = formats[type];
  const options = f.parseOptions(rawOptions);
  const space = f.maxSpaceLog10(options);
  if (space < MIN_SPACE_LOG10) {
    throw new FormatError(
      'TOKEN_SPACE_TOO_SMALL',
      `options leave at most ${Math.round(10 ** space)} possible tokens; at least 10^${MIN_SPACE_LOG10} are required`,
    );
  }
  return {
    type,
    options,
    normalize: (v) => f.normalize(v, options),
    generate: (v, rng) => f.generate(v, options, rng),
    mask: (v) => f.mask(v, options),
    valueSpaceLog10: (v) => f.valueSpaceLog10(v, options),
  };
}

export { FormatError };

import { describe, expect, it } from 'vitest';
import { isPlainEmail } from '../../src/formats/email.js';
import {
  bindFormat,
  FormatError,
  getFormat,
  isTokenType,
  MIN_SPACE_LOG10,
  TOKEN_TYPES,
  type TokenType,
} from '../../src/formats/registry.js';
import { fixedRandom } from './fixed-random.js';

function bindError(type: TokenType, opts: Record<string, unknown>): FormatError {
  try {
    bindFormat(type, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return err as FormatError;
  }
  throw new Error('expected a FormatError');
}

const log26 = Math.log10(26);

describe('option validation at bind time', () => {
  // [type, options, code, exact message]: both sides of every range, the allowed-values lists,
  // wrong JSON types, unknown names, and the token-space floor.
  const cases: [TokenType, Record<string, unknown>, string, string][] = [
    ['digits', { keepFirst: -1 }, 'INVALID_OPTION', 'option keepFirst must be an integer from 0 to 64'],
    ['digits', { keepFirst: 65 }, 'INVALID_OPTION', 'option keepFirst must be an integer from 0 to 64'],
    ['digits', { keepLast: 65 }, 'INVALID_OPTION', 'option keepLast must be an integer from 0 to 64'],
    ['digits', { keepFirst: 1.5 }, 'INVALID_OPTION', 'option keepFirst must be an integer from 0 to 64'],
    ['digits', { keepFirst: '2' }, 'INVALID_OPTION', 'option keepFirst must be an integer from 0 to 64'],
    [
      'digits',
      { keepFirst: 30, keepLast: 29 },
      'TOKEN_SPACE_TOO_SMALL',
      'options leave at most 100000 possible tokens; at least 10^6 are required',
    ],
    ['digits', { keepFirst: 64 }, 'TOKEN_SPACE_TOO_SMALL', 'options leave at most 1 possible tokens; at least 10^6 are required'],
    ['digits', { keep: 2 }, 'INVALID_OPTION', 'unknown option keep (allowed: keepFirst, keepLast)'],
    ['alnum', { keepFirst: 257 }, 'INVALID_OPTION', 'option keepFirst must be an integer from 0 to 256'],
    ['alnum', { keepLast: -1 }, 'INVALID_OPTION', 'option keepLast must be an integer from 0 to 256'],
    ['alnum', { keepFirst: 252 }, 'TOKEN_SPACE_TOO_SMALL', 'options leave at most 456976 possible tokens; at least 10^6 are required'],
    ['card', { keepFirst: 5 }, 'INVALID_OPTION', 'option keepFirst must be one of 0, 6'],
    ['card', { keepFirst: 7 }, 'INVALID_OPTION', 'option keepFirst must be one of 0, 6'],
    ['card', { keepLast: 5 }, 'INVALID_OPTION', 'option keepLast must be an integer from 0 to 4'],
    ['card', { luhn: 'maybe' }, 'INVALID_OPTION', 'option luhn must be one of invalid, valid'],
    ['card', { luhn: true }, 'INVALID_OPTION', 'option luhn must be one of invalid, valid'],
    ['phone', { keepLast: 5 }, 'INVALID_OPTION', 'option keepLast must be an integer from 0 to 4'],
    ['phone', { keepLast: -1 }, 'INVALID_OPTION', 'option keepLast must be an integer from 0 to 4'],
    ['phone', { keepFirst: 1 }, 'INVALID_OPTION', 'unknown option keepFirst (allowed: keepLast)'],
    ['ipv4', { keepPrefix: 33 }, 'INVALID_OPTION', 'option keepPrefix must be an integer from 0 to 32'],
    ['ipv4', { keepPrefix: -1 }, 'INVALID_OPTION', 'option keepPrefix must be an integer from 0 to 32'],
    ['ipv4', { keepPrefix: 13 }, 'TOKEN_SPACE_TOO_SMALL', 'options leave at most 524288 possible tokens; at least 10^6 are required'],
    ['ipv4', { keepPrefix: 16 }, 'TOKEN_SPACE_TOO_SMALL', 'options leave at most 65536 possible tokens; at least 10^6 are required'],
    ['ipv6', { keepPrefix: 129 }, 'INVALID_OPTION', 'option keepPrefix must be an integer from 0 to 128'],
    ['ipv6', { keepPrefix: 109 }, 'TOKEN_SPACE_TOO_SMALL', 'options leave at most 524288 possible tokens; at least 10^6 are required'],
    ['date', { keepYear: true }, 'TOKEN_SPACE_TOO_SMALL', 'options leave at most 366 possible tokens; at least 10^6 are required'],
    ['date', { keepYear: 'yes' }, 'INVALID_OPTION', 'option keepYear must be true or false'],
    ['date', { keepMonth: true }, 'INVALID_OPTION', 'unknown option keepMonth (allowed: keepYear)'],
    ['email', { domain: 'other' }, 'INVALID_OPTION', 'option domain must be one of keep, token'],
    ['email', { domain: 1 }, 'INVALID_OPTION', 'option domain must be one of keep, token'],
    ['ssn', { keepLast: 4 }, 'INVALID_OPTION', 'unknown option keepLast'],
    ['uuid', { version: 4 }, 'INVALID_OPTION', 'unknown option version'],
    ['text', { prefix: 'x' }, 'INVALID_OPTION', 'unknown option prefix'],
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))('bind case %i: %s %j → %s', (_i, type, opts, code, message) => {
    const err = bindError(type, opts);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
  });

  // The other side of each boundary binds, with the options resolved as given.
  const accepted: [TokenType, Record<string, unknown>, Record<string, unknown>][] = [
    ['digits', {}, { keepFirst: 0, keepLast: 0 }],
    ['digits', { keepFirst: 29, keepLast: 29 }, { keepFirst: 29, keepLast: 29 }],
    ['alnum', {}, { keepFirst: 0, keepLast: 0 }],
    ['alnum', { keepFirst: 251 }, { keepFirst: 251, keepLast: 0 }],
    ['card', {}, { keepFirst: 0, keepLast: 4, luhn: 'invalid' }],
    ['card', { keepFirst: 6, keepLast: 0, luhn: 'valid' }, { keepFirst: 6, keepLast: 0, luhn: 'valid' }],
    ['phone', {}, { keepLast: 0 }],
    ['phone', { keepLast: 4 }, { keepLast: 4 }],
    ['ipv4', {}, { keepPrefix: undefined }],
    ['ipv4', { keepPrefix: 12 }, { keepPrefix: 12 }],
    ['ipv4', { keepPrefix: 0 }, { keepPrefix: 0 }],
    ['ipv6', { keepPrefix: 108 }, { keepPrefix: 108 }],
    ['date', {}, { keepYear: false }],
    ['date', { keepYear: false }, { keepYear: false }],
    ['email', {}, { domain: 'keep' }],
    ['email', { domain: 'token' }, { domain: 'token' }],
    ['ssn', {}, {}],
    ['uuid', {}, {}],
    ['text', {}, {}],
  ];
  it.each(accepted.map((c, i) => [i, ...c] as const))('bind accepts case %i: %s %j', (_i, type, opts, resolved) => {
    const f = bindFormat(type, opts);
    expect(f.type).toBe(type);
    expect(f.options).toEqual(resolved);
  });

  it('the floor is 10^6 tokens', () => {
    expect(MIN_SPACE_LOG10).toBe(6);
  });

  it('knows exactly its types', () => {
    expect([...TOKEN_TYPES]).toEqual(['email', 'phone', 'ipv4', 'ipv6', 'card', 'ssn', 'uuid', 'date', 'digits', 'alnum', 'text']);
    for (const t of TOKEN_TYPES) expect(isTokenType(t)).toBe(true);
    for (const t of ['', 'Email', 'name', 'toString', '__proto__']) expect(isTokenType(t)).toBe(false);
  });
});

describe('token space (log10 of the number of possible tokens)', () => {
  // [type, options, maxSpaceLog10, normalized value, valueSpaceLog10]
  const cases: [TokenType, Record<string, unknown>, number, string, number][] = [
    ['email', {}, 64 * Math.log10(36), 'alice@example.com', 5 * Math.log10(36)],
    ['email', { domain: 'token' }, 64 * Math.log10(36), 'alice@example.com', 5 * Math.log10(36) + 12 * log26],
    ['phone', {}, 13 + Math.log10(9), '+14155550100', 9 + Math.log10(9)],
    ['phone', { keepLast: 4 }, 9 + Math.log10(9), '+14155550100', 5 + Math.log10(9)],
    ['phone', { keepLast: 2 }, 11 + Math.log10(9), '+80012345678', 5 + Math.log10(9)],
    ['ipv4', {}, 28 * Math.log10(2), '10.1.2.3', 28 * Math.log10(2)],
    ['ipv4', { keepPrefix: 8 }, 24 * Math.log10(2), '10.1.2.3', 24 * Math.log10(2)],
    ['ipv6', {}, 96 * Math.log10(2), '::1', 96 * Math.log10(2)],
    ['ipv6', { keepPrefix: 64 }, 64 * Math.log10(2), '::1', 64 * Math.log10(2)],
    ['card', {}, 15 + Math.log10(0.9), '4111111111111111', 12 + Math.log10(0.9)],
    ['card', { keepFirst: 6, luhn: 'valid' }, 9 + Math.log10(0.1), '4111111111111111', 6 + Math.log10(0.1)],
    ['ssn', {}, Math.log10(100 * 99 * 9999), '123456789', Math.log10(100 * 99 * 9999)],
    ['uuid', {}, 122 * Math.log10(2), '00000000-0000-0000-0000-000000000000', 122 * Math.log10(2)],
    ['date', {}, Math.log10(3_287_182), '2024-02-29', Math.log10(3_287_182)],
    ['digits', {}, 64, '123456', 6],
    ['digits', { keepFirst: 2, keepLast: 3 }, 59, '12345678', 3],
    ['alnum', {}, 256 * log26, 'Ab1-\u00e9', 3 * log26 + 1],
    ['alnum', { keepFirst: 1, keepLast: 1 }, 254 * log26, 'Ab1-\u00e9', log26 + 1],
    ['text', {}, 22 * Math.log10(62), 'x', 22 * Math.log10(62)],
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))('space case %i: %s %j', (_i, type, opts, max, value, valueSpace) => {
    const f = getFormat(type);
    const o = f.parseOptions(opts);
    expect(f.maxSpaceLog10(o)).toBeCloseTo(max, 9);
    expect(bindFormat(type, opts).valueSpaceLog10(value)).toBeCloseTo(valueSpace, 9);
  });

  it('a phone whose kept digits cover its national number has no space', () => {
    // +800 1234: four national digits, all kept.
    expect(getFormat('phone').valueSpaceLog10('+8001234', { keepLast: 4 })).toBe(0);
    expect(getFormat('phone').valueSpaceLog10('+80012345', { keepLast: 4 })).toBeCloseTo(Math.log10(9), 9);
  });

  it('keepYear date space depends on the year', () => {
    const f = getFormat('date');
    const o = f.parseOptions({ keepYear: true });
    expect(f.maxSpaceLog10(o)).toBeCloseTo(Math.log10(366), 9);
    expect(f.valueSpaceLog10('2024-01-01', o)).toBeCloseTo(Math.log10(366), 9);
    expect(f.valueSpaceLog10('1900-01-01', o)).toBeCloseTo(Math.log10(365), 9);
  });
});

describe('kept digits must leave something to randomize', () => {
  it('a digits value no longer than its kept ends is refused with TOKEN_SPACE_TOO_SMALL', () => {
    const f = bindFormat('digits', { keepFirst: 3, keepLast: 3 });
    expect(f.normalize('1234567')).toBe('1234567');
    let err: unknown;
    try {
      f.normalize('123456');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'TOKEN_SPACE_TOO_SMALL', message: 'value is not longer than the kept digits' });
  });

  it('generation refuses a value whose kept ends cover it', () => {
    const f = getFormat('card');
    let err: unknown;
    try {
      f.generate('1234', { keepFirst: 0, keepLast: 4, luhn: 'invalid' }, { int: () => 0, bytes: (n) => Buffer.alloc(n) });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'TOKEN_SPACE_TOO_SMALL', message: 'kept digits leave nothing to randomize' });
  });
});

describe('edges a policy cannot reach but the code must still get right', () => {
  it('the email fast path keeps the 254 and 64 character limits itself', () => {
    const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    expect(isPlainEmail(`${'a'.repeat(64)}@${domain}`)).toBe(true);
    expect(isPlainEmail(`${'a'.repeat(64)}@${domain.replace('.com', 'd.com')}`)).toBe(false);
    expect(isPlainEmail(`${'a'.repeat(65)}@example.com`)).toBe(false);
    expect(isPlainEmail('a@example.com')).toBe(true);
  });

  it('a phone whose kept digits are its whole national number keeps them all, adding none', () => {
    const f = getFormat('phone');
    expect(f.generate('+8001234', { keepLast: 4 }, fixedRandom({ ints: [5] }))).toBe('+8001234');
  });

  it('a phone with no known calling code cannot be given a token', () => {
    let err: unknown;
    try {
      getFormat('phone').generate('+99912345678', { keepLast: 0 }, fixedRandom());
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_PHONE', message: 'not a phone number with a known country calling code' });
  });

  it('ipv4 keepPrefix 32 may give the broadcast address back (nothing else exists)', () => {
    expect(getFormat('ipv4').generate('255.255.255.255', { keepPrefix: 32 }, fixedRandom({ bytes: Buffer.from([1, 2, 3, 4]) }))).toBe(
      '255.255.255.255',
    );
  });
});

import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import validator from 'validator';
import { describe, expect, it } from 'vitest';
import { bindFormat, getFormat } from '../../src/formats/registry.js';
import { fixedRandom } from './fixed-random.js';
import { keepYearVectors, tokenVectors } from './vectors/tokens.js';

describe('tokens from a scripted random source', () => {
  it.each(tokenVectors.map((v, i) => [i, v.type, v] as const))('token vector %i (%s)', (_i, type, v) => {
    const f = bindFormat(type, v.options);
    const rng = fixedRandom({ ints: v.ints, bytes: v.bytesHex === undefined ? undefined : Buffer.from(v.bytesHex, 'hex') });
    const token = f.generate(v.normalized, rng);
    expect(token).toBe(v.token);
    if (v.draws) expect(rng.draws).toEqual(v.draws);
  });

  it('the vectors themselves are tokens of their type', () => {
    for (const v of tokenVectors) {
      if (v.type === 'phone') {
        expect(v.token).toMatch(/^\+[1-9][0-9]{1,14}$/);
        expect(v.token.length).toBe(v.normalized.length);
        expect(parsePhoneNumberFromString(v.token)?.countryCallingCode).toBe(parsePhoneNumberFromString(v.normalized)?.countryCallingCode);
      }
      if (v.type === 'card') expect(validator.isLuhnNumber(v.token)).toBe(v.options.luhn === 'valid');
      if (v.type === 'uuid') expect(validator.isUUID(v.token, 4)).toBe(true);
      if (v.type === 'date') expect(validator.isDate(v.token, { format: 'YYYY-MM-DD', strictMode: true })).toBe(true);
    }
  });

  it.each(keepYearVectors.map((v, i) => [i, ...v] as const))('keepYear vector %i', (_i, normalized, day, token, daysInYear) => {
    const f = getFormat('date');
    const rng = fixedRandom({ ints: [day] });
    expect(f.generate(normalized, f.parseOptions({ keepYear: true }), rng)).toBe(token);
    expect(rng.draws).toEqual([daysInYear]);
  });
});

import { describe, expect, it } from 'vitest';
import { bindFormat, FormatError, TOKEN_TYPES, type TokenType } from '../../src/formats/registry.js';
import { formatVectors } from './vectors/formats.js';

function rejection(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    return err as FormatError;
  }
  throw new Error('expected a FormatError');
}

// Titles name the type, the option set and the vector's index: deterministic, so the mutation
// runner can pick the tests that cover a line.
const optionCases = TOKEN_TYPES.flatMap((type) =>
  formatVectors[type].optionSets.map((opts) => [type, opts] as [TokenType, Record<string, unknown>]),
);

describe.each(optionCases)('%s vectors with options %j', (type, opts) => {
  const f = bindFormat(type, opts);
  const v = formatVectors[type];

  it.each(v.accept.map((c, i) => [i, ...c] as const))(
    'accepted vector %i normalizes and masks exactly',
    (_i, input, normalized, masked) => {
      expect(f.normalize(input)).toBe(normalized);
      // Normalization is idempotent: a stored value re-enters as itself.
      expect(f.normalize(normalized)).toBe(normalized);
      expect(f.mask(normalized)).toBe(masked);
    },
  );

  it.each(v.reject.map((c, i) => [i, ...c] as const))('rejected vector %i has its code and does not quote the value', (_i, input, code) => {
    const err = rejection(() => f.normalize(input));
    expect(err.code).toBe(code);
    expect(err.name).toBe('FormatError');
    // A reason, in words: the code alone does not tell a caller what to fix.
    expect(err.message).toMatch(/^[a-zA-Z]+ .{8,}/);
    if (input.trim().length >= 4) expect(err.message).not.toContain(input.trim().slice(0, 8));
  });
});

describe('input that is not a string', () => {
  it.each(TOKEN_TYPES)('%s refuses a number, null and an object with INVALID_TYPE', (type) => {
    const f = bindFormat(type);
    for (const bad of [12345678, null, { toString: () => 'a@b.com' }]) {
      expect(rejection(() => f.normalize(bad as unknown as string)).code).toBe('INVALID_TYPE');
    }
  });
});

import type { RandomSource } from './random.js';

/** Stable reason codes for rejected input; the message never contains the value. */
export class FormatError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'FormatError';
  }
}

export type Options = Readonly<Record<string, unknown>>;

export interface TokenFormat<O extends Options = Options> {
  readonly name: string;
  /** Checks policy options, returns them with defaults filled in; throws FormatError naming the option. */
  parseOptions(raw: Options): O;
  /** Validates the input and returns its normalized form (the one that is fingerprinted). */
  normalize(value: string, opts: O): string;
  /** A token for a normalized value; must pass the same syntactic validation as a real value. */
  generate(normalized: string, opts: O, rng: RandomSource): string;
  /** The masked reveal of a normalized value. */
  mask(normalized: string, opts: O): string;
  /**
   * log10 of the number of distinct tokens the best-placed input can get under these options.
   * A policy below 6 (10^6 tokens) is rejected at load.
   */
  maxSpaceLog10(opts: O): number;
  /** log10 of the number of distinct tokens this particular value can get. */
  valueSpaceLog10(normalized: string, opts: O): number;
}

export function reject(code: string, message: string): never {
  throw new FormatError(code, message);
}

/** Checks shared by every type: a string, no NUL, no lone surrogates. Returns the trimmed value. */
export function preclean(value: unknown, maxBytes = 64 * 1024): string {
  if (typeof value !== 'string') reject('INVALID_TYPE', 'value must be a string');
  if (Buffer.byteLength(value, 'utf8') > maxBytes) reject('TOO_LONG', `value exceeds ${maxBytes} bytes`);
  if (!value.isWellFormed()) reject('LONE_SURROGATE', 'value contains a lone UTF-16 surrogate');
  if (value.includes('\u0000')) reject('NUL_BYTE', 'value contains a NUL character');
  const trimmed = value.trim();
  if (trimmed.length === 0) reject('EMPTY', 'value is empty');
  return trimmed;
}

export function intOption(raw: Options, name: string, def: number, min: number, max: number, allowed?: number[]): number {
  const v = raw[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (allowed && !allowed.includes(v))) {
    const range = allowed ? `one of ${allowed.join(', ')}` : `an integer from ${min} to ${max}`;
    reject('INVALID_OPTION', `option ${name} must be ${range}`);
  }
  return v;
}

export function enumOption<T extends string>(raw: Options, name: string, values: readonly T[], def: T): T {
  const v = raw[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !values.includes(v as T)) reject('INVALID_OPTION', `option ${name} must be one of ${values.join(', ')}`);
  return v as T;
}

export function onlyOptions(raw: Options, allowed: string[]): void {
  for (const k of Object.keys(raw)) {
    if (!allowed.includes(k)) reject('INVALID_OPTION', `unknown option ${k}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`);
  }
}

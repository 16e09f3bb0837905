import { onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type DateOptions = { keepYear: boolean };
const MIN_YEAR = 1000;
const MAX_YEAR = 9999;
const DAY_MS = 86_400_000;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysIn(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

function utc(y: number, dayOfYear: number): string {
  const d = new Date(Date.UTC(y, 0, 1) + dayOfYear * DAY_MS);
  d.setUTCFullYear(y); // Date.UTC maps years below 100 into the 1900s; set it explicitly
  return d.toISOString().slice(0, 10);
}

// Days from 1000-01-01 to 9999-12-31: the default token range (about 3.3 million dates).
const FIRST_DAY = Date.UTC(MIN_YEAR, 0, 1);
const SPAN_DAYS = (Date.UTC(MAX_YEAR, 11, 31) - FIRST_DAY) / DAY_MS + 1;

export const date: TokenFormat<DateOptions> = {
  name: 'date',
  parseOptions(raw) {
    onlyOptions(raw, ['keepYear']);
    if (raw.keepYear !== undefined && typeof raw.keepYear !== 'boolean') reject('INVALID_OPTION', 'option keepYear must be true or false');
    return { keepYear: raw.keepYear === true };
  },
  normalize(value) {
    const v = preclean(value, 64);
    const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(v);
    if (!m) reject('INVALID_DATE', 'date must be ISO YYYY-MM-DD');
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) reject('INVALID_DATE', 'date is not a real calendar date');
    return v;
  },
  generate(normalized, opts, rng) {
    if (opts.keepYear) {
      const y = Number(normalized.slice(0, 4));
      const dayOfYear = rng.int(isLeap(y) ? 366 : 365);
      return `${normalized.slice(0, 4)}${utc(y, dayOfYear).slice(4)}`;
    }
    return new Date(FIRST_DAY + rng.int(SPAN_DAYS) * DAY_MS).toISOString().slice(0, 10);
  },
  mask: (v) => `${v.slice(0, 4)}-**-**`,
  maxSpaceLog10: (opts) => Math.log10(opts.keepYear ? 366 : SPAN_DAYS),
  valueSpaceLog10: (v, opts) => Math.log10(opts.keepYear ? (isLeap(Number(v.slice(0, 4))) ? 366 : 365) : SPAN_DAYS),
};

import { ALPHABETS, randomString } from './random.js';
import { onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type SsnOptions = Record<string, never>;

function parts(v: string): [string, string, string] {
  return [v.slice(0, 3), v.slice(3, 5), v.slice(5)];
}

export const ssn: TokenFormat<SsnOptions> = {
  name: 'ssn',
  parseOptions(raw) {
    onlyOptions(raw, []);
    return {};
  },
  normalize(value) {
    const raw = preclean(value, 64);
    if (!/^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$/.test(raw)) reject('INVALID_SSN', 'SSN must be 9 digits, optionally as NNN-NN-NNNN');
    const v = raw.replace(/[- ]/g, '');
    const [area, group, serial] = parts(v);
    if (area === '000' || area === '666' || area >= '900') reject('INVALID_SSN', 'SSN area 000, 666 and 900-999 are never issued');
    if (group === '00') reject('INVALID_SSN', 'SSN group 00 is never issued');
    if (serial === '0000') reject('INVALID_SSN', 'SSN serial 0000 is never issued');
    return v;
  },
  generate(_normalized, _opts, rng) {
    // Area 900-999 is never issued, so a token cannot belong to a real person.
    const area = `9${randomString(rng, ALPHABETS.digits, 2)}`;
    const group = String(1 + rng.int(99)).padStart(2, '0');
    const serial = String(1 + rng.int(9999)).padStart(4, '0');
    return `${area}-${group}-${serial}`;
  },
  mask: (v) => `***-**-${v.slice(5)}`,
  maxSpaceLog10: () => Math.log10(100 * 99 * 9999),
  valueSpaceLog10: () => Math.log10(100 * 99 * 9999),
};

import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ALPHABETS, randomString } from './random.js';
import { intOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type PhoneOptions = { keepLast: number };
const MAX_DIGITS = 15;
const ALLOWED = /^\+?[0-9 ()\-./]+$/;

/** Every country's calling code. E.164 calling codes are prefix-free, so a prefix lookup finds it. */
const CALLING_CODES = new Set(getCountries().map((c) => getCountryCallingCode(c) as string));

/** Country calling code of an E.164 number, from libphonenumber's metadata. */
function callingCode(e164: string): string {
  // Fast path (a full parse per token would cap phone tokens near 120k/s).
  for (let len = 1; len <= 3; len++) {
    const code = e164.slice(1, 1 + len);
    if (CALLING_CODES.has(code)) return code;
  }
  // Non-geographic codes (+800, +883, …) are not tied to a country: ask the parser.
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) reject('INVALID_PHONE', 'not a phone number with a known country calling code');
  return parsed.countryCallingCode;
}

export const phone: TokenFormat<PhoneOptions> = {
  name: 'phone',
  parseOptions(raw) {
    onlyOptions(raw, ['keepLast']);
    return { keepLast: intOption(raw, 'keepLast', 0, 0, 4) };
  },
  normalize(value) {
    const v = preclean(value, 64);
    if (!ALLOWED.test(v) || !v.startsWith('+'))
      reject('INVALID_PHONE', 'phone must be E.164: a leading + and digits, with optional spaces, dashes, dots or parentheses');
    const parsed = parsePhoneNumberFromString(v);
    if (!parsed || !parsed.isPossible())
      reject('INVALID_PHONE', 'phone cannot be brought to E.164 (unknown country code or impossible length)');
    const e164 = parsed.number;
    if (!/^\+[1-9][0-9]{1,14}$/.test(e164)) reject('INVALID_PHONE', 'phone cannot be brought to E.164');
    return e164;
  },
  generate(normalized, opts, rng) {
    const cc = callingCode(normalized);
    const national = normalized.slice(1 + cc.length);
    const freeLength = national.length - opts.keepLast;
    // The first national digit is never 0, so the token cannot read as a trunk prefix.
    const first = freeLength > 0 ? ALPHABETS.digits[1 + rng.int(9)] : '';
    const rest = randomString(rng, ALPHABETS.digits, Math.max(0, freeLength - 1));
    return `+${cc}${first}${rest}${national.slice(national.length - opts.keepLast)}`;
  },
  mask(normalized) {
    return `${'*'.repeat(normalized.length - 4)}${normalized.slice(-4)}`;
  },
  maxSpaceLog10: (opts) => MAX_DIGITS - 1 - opts.keepLast - 1 + Math.log10(9),
  valueSpaceLog10(normalized, opts) {
    const free = normalized.length - 1 - callingCode(normalized).length - opts.keepLast;
    return free <= 0 ? 0 : free - 1 + Math.log10(9);
  },
};

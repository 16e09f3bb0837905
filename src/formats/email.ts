import validator from 'validator';
import { ALPHABETS, randomString } from './random.js';
import { enumOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type EmailOptions = { domain: 'keep' | 'token' };
const MAX_LENGTH = 254;
const MAX_LOCAL = 64;
const TOKEN_DOMAIN_LABEL = 12;

// The common case, checked without validator.js (its isEmail was ~20% of the vault's CPU on
// repeated values): ASCII dot-atom local part, LDH labels, an alphabetic TLD. Everything this
// accepts, validator.js accepts too (a property test holds it to that); the rest goes to validator.js.
const ATOM = "[a-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** One pass, no backtracking beyond a label: an atom holds no dot, a label no dot. */
const PLAIN_EMAIL = new RegExp(`^${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+[a-z]{2,63}$`);
/** validator.js also takes quoted local parts ("a b"@x.com); only the domain is left to it. */
const DOT_ATOM_LOCAL = new RegExp(`^${ATOM}(?:\\.${ATOM})*@[^@]+$`);
export const VALIDATOR_OPTIONS = { allow_utf8_local_part: false, require_tld: true, allow_ip_domain: false, allow_display_name: false };

export function isPlainEmail(v: string): boolean {
  return v.length <= MAX_LENGTH && PLAIN_EMAIL.test(v) && v.indexOf('@') <= MAX_LOCAL;
}

function split(normalized: string): [string, string] {
  const at = normalized.lastIndexOf('@');
  return [normalized.slice(0, at), normalized.slice(at + 1)];
}

export const email: TokenFormat<EmailOptions> = {
  name: 'email',
  parseOptions(raw) {
    onlyOptions(raw, ['domain']);
    return { domain: enumOption(raw, 'domain', ['keep', 'token'] as const, 'keep') };
  },
  normalize(value) {
    const v = preclean(value).toLowerCase();
    if (v.length > MAX_LENGTH) reject('TOO_LONG', `email exceeds ${MAX_LENGTH} characters`);
    if (split(v)[0].length > MAX_LOCAL) reject('TOO_LONG', `email local part exceeds ${MAX_LOCAL} characters`);
    // Only plain dot-atom local parts: quoted local parts and comments have no sensible token.
    if (!isPlainEmail(v) && !(DOT_ATOM_LOCAL.test(v) && validator.isEmail(v, VALIDATOR_OPTIONS))) {
      reject('INVALID_EMAIL', 'not a valid email address (addr-spec with a dot-atom local part)');
    }
    return v;
  },
  generate(normalized, opts, rng) {
    const [local, domain] = split(normalized);
    const tokenLocal = randomString(rng, ALPHABETS.lowerAlnum, local.length);
    const tokenDomain = opts.domain === 'keep' ? domain : `${randomString(rng, ALPHABETS.lower, TOKEN_DOMAIN_LABEL)}.invalid`;
    return `${tokenLocal}@${tokenDomain}`;
  },
  mask(normalized) {
    const [local, domain] = split(normalized);
    return `${local[0]}****@${domain}`;
  },
  maxSpaceLog10: () => MAX_LOCAL * Math.log10(36),
  valueSpaceLog10(normalized, opts) {
    const [local] = split(normalized);
    return local.length * Math.log10(36) + (opts.domain === 'token' ? TOKEN_DOMAIN_LABEL * Math.log10(26) : 0);
  },
};

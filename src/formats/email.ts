import validator from 'validator';
import { ALPHABETS, randomString } from './random.js';
import { enumOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type EmailOptions = { domain: 'keep' | 'token' };
const MAX_LENGTH = 254;
const MAX_LOCAL = 64;
const TOKEN_DOMAIN_LABEL = 12;

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
    if (!validator.isEmail(v, { allow_utf8_local_part: false, require_tld: true, allow_ip_domain: false, allow_display_name: false })) {
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

import { isIPv4, isIPv6 } from 'node:net';
import type { RandomSource } from './random.js';
import { intOption, onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type IpOptions = { keepPrefix: number | undefined };

/** Bits of a big-endian byte array: keep `prefix` bits of `kept`, fill the rest from `fill`. */
function mergePrefix(kept: Uint8Array, fill: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(kept.length);
  for (let i = 0; i < kept.length; i++) {
    const bitsKept = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = bitsKept === 0 ? 0 : (0xff << (8 - bitsKept)) & 0xff;
    out[i] = (kept[i]! & mask) | (fill[i]! & ~mask & 0xff);
  }
  return out;
}

function randomBytes(rng: RandomSource, n: number): Uint8Array {
  return new Uint8Array(rng.bytes(n));
}

// ---------- IPv4 ----------

function parseV4(v: string): Uint8Array {
  return Uint8Array.from(v.split('.').map(Number));
}

/** 240.0.0.0/4 is reserved and never routed, so a default token cannot reach a real host. */
const V4_RESERVED = Uint8Array.from([240, 0, 0, 0]);
const V4_RESERVED_BITS = 4;

export const ipv4: TokenFormat<IpOptions> = {
  name: 'ipv4',
  parseOptions(raw) {
    onlyOptions(raw, ['keepPrefix']);
    return { keepPrefix: raw.keepPrefix === undefined ? undefined : intOption(raw, 'keepPrefix', 0, 0, 32) };
  },
  normalize(value) {
    const v = preclean(value, 64);
    // Leading zeros are refused: some parsers read them as octal, so the value would be ambiguous.
    if (!isIPv4(v) || /(^|\.)0[0-9]/.test(v)) reject('INVALID_IPV4', 'not a dotted-quad IPv4 address without leading zeros');
    return v;
  },
  generate(normalized, opts, rng) {
    for (;;) {
      const bytes =
        opts.keepPrefix === undefined
          ? mergePrefix(V4_RESERVED, randomBytes(rng, 4), V4_RESERVED_BITS)
          : mergePrefix(parseV4(normalized), randomBytes(rng, 4), opts.keepPrefix);
      const token = Array.from(bytes).join('.');
      // The limited broadcast address is refused by many stacks; draw again (only possible in 240/4 or /≤31 prefixes).
      if (token !== '255.255.255.255' || opts.keepPrefix === 32) return token;
    }
  },
  mask(normalized) {
    return `${normalized.split('.')[0]}.*.*.*`;
  },
  maxSpaceLog10: (opts) => (32 - (opts.keepPrefix ?? V4_RESERVED_BITS)) * Math.log10(2),
  valueSpaceLog10: (_v, opts) => (32 - (opts.keepPrefix ?? V4_RESERVED_BITS)) * Math.log10(2),
};

// ---------- IPv6 ----------

/** Parses any RFC 4291 text form (including embedded IPv4) to 16 bytes. */
export function parseV6(v: string): Uint8Array {
  let text = v;
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4: number[] = [];
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  for (const g of headGroups) groups.push(parseInt(g, 16));
  if (rest !== undefined) for (let i = 0; i < missing; i++) groups.push(0);
  for (const g of restGroups) groups.push(parseInt(g, 16));
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (v4.length === 4) bytes.set(v4, 12);
  return bytes;
}

/** RFC 5952 text: lower case, no leading zeros, the longest (first on ties) run of ≥ 2 zero groups as "::". */
export function formatV6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** 2001:db8::/32 is reserved for documentation (RFC 3849): never routed. */
const V6_DOC = parseV6('2001:db8::');
const V6_DOC_BITS = 32;

export const ipv6: TokenFormat<IpOptions> = {
  name: 'ipv6',
  parseOptions(raw) {
    onlyOptions(raw, ['keepPrefix']);
    return { keepPrefix: raw.keepPrefix === undefined ? undefined : intOption(raw, 'keepPrefix', 0, 0, 128) };
  },
  normalize(value) {
    const v = preclean(value, 64);
    if (v.includes('%') || !isIPv6(v)) reject('INVALID_IPV6', 'not an IPv6 address in RFC 4291 text form (zone ids are not accepted)');
    return formatV6(parseV6(v));
  },
  generate(normalized, opts, rng) {
    const bytes =
      opts.keepPrefix === undefined
        ? mergePrefix(V6_DOC, randomBytes(rng, 16), V6_DOC_BITS)
        : mergePrefix(parseV6(normalized), randomBytes(rng, 16), opts.keepPrefix);
    return formatV6(bytes);
  },
  mask(normalized) {
    const b = parseV6(normalized);
    return `${((b[0]! << 8) | b[1]!).toString(16)}:*:*:*:*:*:*:*`;
  },
  maxSpaceLog10: (opts) => (128 - (opts.keepPrefix ?? V6_DOC_BITS)) * Math.log10(2),
  valueSpaceLog10: (_v, opts) => (128 - (opts.keepPrefix ?? V6_DOC_BITS)) * Math.log10(2),
};

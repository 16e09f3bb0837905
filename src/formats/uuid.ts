import { onlyOptions, preclean, reject, type TokenFormat } from './types.js';

type UuidOptions = Record<string, never>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const uuid: TokenFormat<UuidOptions> = {
  name: 'uuid',
  parseOptions(raw) {
    onlyOptions(raw, []);
    return {};
  },
  normalize(value) {
    const v = preclean(value, 64).toLowerCase();
    if (!UUID.test(v)) reject('INVALID_UUID', 'not a UUID in 8-4-4-4-12 hex form');
    return v;
  },
  generate(_normalized, _opts, rng) {
    const b = rng.bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40; // version 4
    b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  },
  mask: (v) => `********-****-****-****-********${v.slice(-4)}`,
  maxSpaceLog10: () => 122 * Math.log10(2),
  valueSpaceLog10: () => 122 * Math.log10(2),
};

import type { TokenType } from '../../../src/formats/registry.js';

/**
 * Known answers for every token type: fixed inputs → exact normalized forms and exact masks (for
 * every option set a policy may give the type), and the exact code of every rejection. The
 * normalized form is what gets fingerprinted: changing one orphans every stored row of that type,
 * so a vector that breaks needs a versioned migration, not an edit here. The masks are what a
 * masked-scope support agent sees: each is a literal, never "some stars and not the input".
 */
export interface FormatVectors {
  /** Option sets the type is bound with; every case below must hold under each of them. */
  readonly optionSets: readonly Record<string, unknown>[];
  /** [input, normalized, mask] */
  readonly accept: readonly (readonly [string, string, string])[];
  /** [input, error code] */
  readonly reject: readonly (readonly [string, string])[];
}

const EMPTY: [string, string][] = [
  ['', 'EMPTY'],
  [' \t\r\n ', 'EMPTY'],
  ['\u00a0\u2003', 'EMPTY'],
];

// 64-character local part, 254 characters in all (the limits), and one over each.
const local64 = 'a'.repeat(64);
const domain189 = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;

export const formatVectors: Record<TokenType, FormatVectors> = {
  email: {
    optionSets: [{}, { domain: 'keep' }, { domain: 'token' }],
    accept: [
      ['Alice@Example.COM', 'alice@example.com', 'a****@example.com'],
      ['  bob.smith+tag@Mail.Example.org ', 'bob.smith+tag@mail.example.org', 'b****@mail.example.org'],
      ['X@Y.IO', 'x@y.io', 'x****@y.io'],
      // Not the fast path (a punycode TLD): validator.js decides, the normalized form is the same.
      ['User@Example.XN--P1AI', 'user@example.xn--p1ai', 'u****@example.xn--p1ai'],
      [`${local64}@${domain189}`, `${local64}@${domain189}`, `a****@${domain189}`],
    ],
    reject: [
      ...EMPTY,
      ['not-an-email', 'INVALID_EMAIL'],
      ['a@b', 'INVALID_EMAIL'],
      ['"quoted"@example.com', 'INVALID_EMAIL'],
      ['"a b"@example.com', 'INVALID_EMAIL'],
      ['a@b"c"@example.com', 'INVALID_EMAIL'],
      ['a b@example.com', 'INVALID_EMAIL'],
      ['Alice <alice@example.com>', 'INVALID_EMAIL'],
      [`a${local64}@example.com`, 'TOO_LONG'],
      [`${local64}@${domain189.replace('.com', 'd.com')}`, 'TOO_LONG'],
    ],
  },
  phone: {
    optionSets: [{}, { keepLast: 0 }, { keepLast: 4 }],
    accept: [
      ['+1 (415) 555-0100', '+14155550100', '********0100'],
      ['+1.415.555.0100', '+14155550100', '********0100'],
      ['+44 20 7946 0958', '+442079460958', '*********0958'],
      ['+800 1234 5678', '+80012345678', '********5678'],
    ],
    reject: [
      ...EMPTY,
      ['4155550100', 'INVALID_PHONE'],
      ['+1 415 555 0100 ext 5', 'INVALID_PHONE'],
      ['+1 41', 'INVALID_PHONE'],
      ['+999 1234', 'INVALID_PHONE'],
      ['++14155550100', 'INVALID_PHONE'],
    ],
  },
  ipv4: {
    optionSets: [{}, { keepPrefix: 0 }, { keepPrefix: 8 }, { keepPrefix: 12 }],
    accept: [
      ['192.0.2.44', '192.0.2.44', '192.*.*.*'],
      [' 10.0.0.1 ', '10.0.0.1', '10.*.*.*'],
      ['0.0.0.0', '0.0.0.0', '0.*.*.*'],
      ['255.255.255.255', '255.255.255.255', '255.*.*.*'],
    ],
    reject: [
      ...EMPTY,
      ['010.1.1.1', 'INVALID_IPV4'],
      ['01.2.3.4', 'INVALID_IPV4'],
      ['1.2.3.04', 'INVALID_IPV4'],
      ['1.2.3', 'INVALID_IPV4'],
      ['256.1.1.1', 'INVALID_IPV4'],
      ['::1', 'INVALID_IPV4'],
    ],
  },
  ipv6: {
    optionSets: [{}, { keepPrefix: 64 }, { keepPrefix: 108 }],
    accept: [
      ['2001:DB8:0::1', '2001:db8::1', '2001:*:*:*:*:*:*:*'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', '2001:*:*:*:*:*:*:*'],
      // Two runs of equal length: the first is compressed (RFC 5952 §4.2.3).
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1', '2001:*:*:*:*:*:*:*'],
      // The longest run wins, wherever it is.
      ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::', '2001:*:*:*:*:*:*:*'],
      // A single zero group is never "::" (§4.2.2).
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', '2001:*:*:*:*:*:*:*'],
      ['0:0:0:0:0:0:0:0', '::', '0:*:*:*:*:*:*:*'],
      ['0:0:0:0:0:0:0:1', '::1', '0:*:*:*:*:*:*:*'],
      ['1:0:0:0:0:0:0:0', '1::', '1:*:*:*:*:*:*:*'],
      ['::ffff:192.0.2.1', '::ffff:c000:201', '0:*:*:*:*:*:*:*'],
      ['FE80::0202:B3FF:FE1E:8329', 'fe80::202:b3ff:fe1e:8329', 'fe80:*:*:*:*:*:*:*'],
      ['2a00:1450:4001:81c::200e', '2a00:1450:4001:81c::200e', '2a00:*:*:*:*:*:*:*'],
    ],
    reject: [
      ...EMPTY,
      ['fe80::1%eth0', 'INVALID_IPV6'],
      ['2001:db8::g', 'INVALID_IPV6'],
      ['1:2:3:4:5:6:7:8:9', 'INVALID_IPV6'],
      ['12345::1', 'INVALID_IPV6'],
      ['1::2::3', 'INVALID_IPV6'],
      ['192.0.2.1', 'INVALID_IPV6'],
    ],
  },
  card: {
    optionSets: [{}, { keepLast: 0 }, { keepFirst: 6 }, { keepFirst: 6, keepLast: 4, luhn: 'valid' }, { luhn: 'invalid' }],
    accept: [
      ['4111 1111 1111 1111', '4111111111111111', '**** **** **** 1111'],
      ['4111-1111-1111-1111', '4111111111111111', '**** **** **** 1111'],
      // The length limits, each Luhn-valid: 12 and 19 digits are cards.
      ['411111111117', '411111111117', '**** **** 1117'],
      ['4111111111119', '4111111111119', '**** **** *111 9'],
      ['4111111111111111110', '4111111111111111110', '**** **** **** ***1 110'],
    ],
    reject: [
      ...EMPTY,
      // Luhn-valid, but 11 and 20 digits: only the length rule refuses them.
      ['41111111112', 'INVALID_CARD'],
      ['41111111111111111115', 'INVALID_CARD'],
      ['4111111111111112', 'INVALID_CARD'],
      ['4111 1111 1111 111a', 'INVALID_CARD'],
      ['4111.1111.1111.1111', 'INVALID_CARD'],
      [`4111${' '.repeat(61)}1111`, 'TOO_LONG'],
    ],
  },
  ssn: {
    optionSets: [{}],
    accept: [
      ['123-45-6789', '123456789', '***-**-6789'],
      ['123 45 6789', '123456789', '***-**-6789'],
      ['123456789', '123456789', '***-**-6789'],
      ['001-01-0001', '001010001', '***-**-0001'],
      ['665-99-9999', '665999999', '***-**-9999'],
      ['667-01-0001', '667010001', '***-**-0001'],
      ['899-99-9999', '899999999', '***-**-9999'],
    ],
    reject: [
      ...EMPTY,
      ['900-12-3456', 'INVALID_SSN'],
      ['999-99-9999', 'INVALID_SSN'],
      ['000-12-3456', 'INVALID_SSN'],
      ['666-12-3456', 'INVALID_SSN'],
      ['123-00-3456', 'INVALID_SSN'],
      ['123-45-0000', 'INVALID_SSN'],
      ['12-345-6789', 'INVALID_SSN'],
      ['123--45-6789', 'INVALID_SSN'],
      ['1234567890', 'INVALID_SSN'],
    ],
  },
  uuid: {
    optionSets: [{}],
    accept: [
      ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '********-****-****-****-********0a11'],
      [' 00000000-0000-0000-0000-000000000000 ', '00000000-0000-0000-0000-000000000000', '********-****-****-****-********0000'],
    ],
    reject: [
      ...EMPTY,
      ['a0eebc999c0b4ef8bb6d6bb9bd380a11', 'INVALID_UUID'],
      ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'INVALID_UUID'],
      ['g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'INVALID_UUID'],
      ['a0eebc99-9c0b-4ef8-bb6d', 'INVALID_UUID'],
    ],
  },
  date: {
    optionSets: [{}, { keepYear: false }],
    accept: [
      ['2024-02-29', '2024-02-29', '2024-**-**'],
      ['2000-02-29', '2000-02-29', '2000-**-**'],
      [' 1984-02-29 ', '1984-02-29', '1984-**-**'],
      ['2023-01-31', '2023-01-31', '2023-**-**'],
      ['2023-04-30', '2023-04-30', '2023-**-**'],
      ['2023-12-31', '2023-12-31', '2023-**-**'],
      ['2023-01-01', '2023-01-01', '2023-**-**'],
      ['0001-01-01', '0001-01-01', '0001-**-**'],
      ['9999-12-31', '9999-12-31', '9999-**-**'],
    ],
    reject: [
      ...EMPTY,
      ['1900-02-29', 'INVALID_DATE'],
      ['2023-02-29', 'INVALID_DATE'],
      ['2100-02-29', 'INVALID_DATE'],
      ['2023-13-01', 'INVALID_DATE'],
      ['2023-00-10', 'INVALID_DATE'],
      ['2023-01-00', 'INVALID_DATE'],
      ['2023-01-32', 'INVALID_DATE'],
      ['2023-04-31', 'INVALID_DATE'],
      ['0000-01-01', 'INVALID_DATE'],
      ['2023-1-01', 'INVALID_DATE'],
      ['20230101', 'INVALID_DATE'],
      ['x2023-01-01', 'INVALID_DATE'],
      ['12023-01-01', 'INVALID_DATE'],
      ['2023-01-01T00:00:00Z', 'INVALID_DATE'],
    ],
  },
  digits: {
    optionSets: [{}, { keepFirst: 2, keepLast: 3 }],
    accept: [
      ['123456', '123456', '*****6'],
      ['12345678', '12345678', '******78'],
      ['1234-5678 9012.3456', '1234567890123456', '************3456'],
      ['9'.repeat(64), '9'.repeat(64), `${'*'.repeat(48)}${'9'.repeat(16)}`],
    ],
    reject: [
      ...EMPTY,
      ['12345', 'INVALID_DIGITS'],
      ['9'.repeat(65), 'INVALID_DIGITS'],
      ['12a456', 'INVALID_DIGITS'],
      ['+123456', 'INVALID_DIGITS'],
    ],
  },
  alnum: {
    optionSets: [{}, { keepFirst: 1, keepLast: 1 }],
    accept: [
      ['AB12-cd34', 'AB12-cd34', 'A********'],
      ['Cafe\u0301', 'Caf\u00e9', 'C***'],
      ['\u{1F600}ab', '\u{1F600}ab', '\u{1F600}**'],
      ['  xy  ', 'xy', 'x*'],
      // One character: the first-character rule would show it whole.
      [' x ', 'x', '*'],
      ['x'.repeat(256), 'x'.repeat(256), `x${'*'.repeat(255)}`],
    ],
    reject: [...EMPTY, ['x'.repeat(257), 'TOO_LONG'], ['ab\ud800', 'LONE_SURROGATE'], ['a\u0000b', 'NUL_BYTE']],
  },
  text: {
    optionSets: [{}],
    accept: [
      ['  e\u0301  ', '\u00e9', '****'],
      ['Call me at home', 'Call me at home', '****'],
      ['x'.repeat(64 * 1024), 'x'.repeat(64 * 1024), '****'],
    ],
    reject: [
      ...EMPTY,
      ['x'.repeat(64 * 1024 + 1), 'TOO_LONG'],
      ['\u00e9'.repeat(32 * 1024 + 1), 'TOO_LONG'],
      ['a\u0000b', 'NUL_BYTE'],
      ['\udc00', 'LONE_SURROGATE'],
    ],
  },
};

import type { TokenType } from '../../../src/formats/registry.js';

/**
 * Tokens drawn from a scripted random source (see fixed-random.ts): `ints` are returned by
 * `int(max)` in turn (mod max), `bytes` are cycled by `bytes(n)`, and `draws` lists the `max` of
 * every `int` call, so the ranges a format draws from are pinned as well as the result.
 */
export interface TokenVector {
  readonly type: TokenType;
  readonly options: Record<string, unknown>;
  readonly normalized: string;
  readonly ints?: readonly number[];
  readonly bytesHex?: string;
  readonly token: string;
  readonly draws?: readonly number[];
}

const counting = Array.from({ length: 16 }, (_, i) => i.toString(16).padStart(2, '0')).join('');

export const tokenVectors: readonly TokenVector[] = [
  // lowerAlnum is a-z then 0-9: 0 → a, 35 → 9.
  {
    type: 'email',
    options: {},
    normalized: 'alice@example.com',
    ints: [0, 1, 2, 3, 35],
    token: 'abcd9@example.com',
    draws: [36, 36, 36, 36, 36],
  },
  {
    type: 'email',
    options: { domain: 'token' },
    normalized: 'alice@example.com',
    ints: [0, 1, 2, 3, 35],
    token: 'abcd9@abcdjabcdjab.invalid',
    draws: [36, 36, 36, 36, 36, ...Array<number>(12).fill(26)],
  },
  // The first national digit is 1 + int(9): never 0.
  {
    type: 'phone',
    options: {},
    normalized: '+14155550100',
    ints: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    token: '+11123456789',
    draws: [9, 10, 10, 10, 10, 10, 10, 10, 10, 10],
  },
  { type: 'phone', options: {}, normalized: '+14155550100', ints: [8], token: '+19888888888' },
  {
    type: 'phone',
    options: { keepLast: 4 },
    normalized: '+14155550100',
    ints: [0, 1, 2, 3, 4, 5],
    token: '+11123450100',
    draws: [9, 10, 10, 10, 10, 10],
  },
  { type: 'phone', options: { keepLast: 4 }, normalized: '+442079460958', ints: [5], token: '+446555550958' },
  { type: 'phone', options: { keepLast: 2 }, normalized: '+80012345678', ints: [0], token: '+80010000078' },
  // 240.0.0.0/4: the top four bits are 1111.
  { type: 'ipv4', options: {}, normalized: '192.0.2.44', bytesHex: '12345678', token: '242.52.86.120' },
  { type: 'ipv4', options: {}, normalized: '192.0.2.44', bytesHex: '00000000', token: '240.0.0.0' },
  // The limited broadcast address is drawn again.
  { type: 'ipv4', options: {}, normalized: '192.0.2.44', bytesHex: 'ffffffff01020304', token: '241.2.3.4' },
  { type: 'ipv4', options: { keepPrefix: 12 }, normalized: '192.168.1.1', bytesHex: 'ffffffff', token: '192.175.255.255' },
  { type: 'ipv4', options: { keepPrefix: 8 }, normalized: '10.1.2.3', bytesHex: '00000000', token: '10.0.0.0' },
  { type: 'ipv4', options: { keepPrefix: 0 }, normalized: '10.1.2.3', bytesHex: '01020304', token: '1.2.3.4' },
  { type: 'ipv6', options: {}, normalized: '::1', bytesHex: counting, token: '2001:db8:405:607:809:a0b:c0d:e0f' },
  { type: 'ipv6', options: {}, normalized: '::1', bytesHex: '00', token: '2001:db8::' },
  { type: 'ipv6', options: {}, normalized: '::1', bytesHex: 'ff', token: '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff' },
  {
    type: 'ipv6',
    options: { keepPrefix: 64 },
    normalized: '2a00:1450:4001:81c::200e',
    bytesHex: 'ff',
    token: '2a00:1450:4001:81c:ffff:ffff:ffff:ffff',
  },
  { type: 'ipv6', options: { keepPrefix: 108 }, normalized: '2a00:1450:4001:81c::200e', bytesHex: '00', token: '2a00:1450:4001:81c::' },
  { type: 'ipv6', options: { keepPrefix: 20 }, normalized: 'ffff:ffff::', bytesHex: '00', token: 'ffff:f000::' },
  // Luhn-invalid by default: 0000000000001111 is (sum 6), kept as drawn.
  { type: 'card', options: {}, normalized: '4111111111111111', ints: [0], token: '0000000000001111', draws: Array<number>(12).fill(10) },
  // 000000000004|1111 is Luhn-valid (sum 10): drawn again, the next twelve digits are 2s.
  {
    type: 'card',
    options: {},
    normalized: '4111111111111111',
    ints: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    token: '2222222222221111',
  },
  {
    type: 'card',
    options: { keepFirst: 6, luhn: 'valid' },
    normalized: '4111111111111111',
    ints: [0, 0, 0, 0, 0, 9],
    token: '4111110000091111',
  },
  { type: 'card', options: { keepLast: 0 }, normalized: '411111111117', ints: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], token: '000000000001' },
  { type: 'ssn', options: {}, normalized: '123456789', ints: [0], token: '900-01-0001', draws: [10, 10, 99, 9999] },
  { type: 'ssn', options: {}, normalized: '123456789', ints: [9, 9, 98, 9998], token: '999-99-9999' },
  {
    type: 'uuid',
    options: {},
    normalized: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    bytesHex: counting,
    token: '00010203-0405-4607-8809-0a0b0c0d0e0f',
  },
  {
    type: 'uuid',
    options: {},
    normalized: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    bytesHex: 'ff',
    token: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
  },
  // 3,287,182 days from 1000-01-01 to 9999-12-31.
  { type: 'date', options: {}, normalized: '1984-02-29', ints: [0], token: '1000-01-01', draws: [3_287_182] },
  { type: 'date', options: {}, normalized: '1984-02-29', ints: [3_287_181], token: '9999-12-31' },
  { type: 'date', options: {}, normalized: '1984-02-29', ints: [365 + 59], token: '1001-03-01' },
  { type: 'digits', options: {}, normalized: '123456', ints: [9, 8, 7, 6, 5, 4], token: '987654', draws: [10, 10, 10, 10, 10, 10] },
  { type: 'digits', options: { keepFirst: 2, keepLast: 3 }, normalized: '12345678', ints: [0], token: '12000678', draws: [10, 10, 10] },
  // Upper → A-Z, other letters → a-z, digits → 0-9, the rest kept.
  { type: 'alnum', options: {}, normalized: 'Ab1-\u00e9', ints: [25, 0, 9, 3], token: 'Za9-d', draws: [26, 26, 10, 26] },
  { type: 'alnum', options: { keepFirst: 1, keepLast: 1 }, normalized: 'Ab1-\u00e9', ints: [25, 0], token: 'Az0-\u00e9', draws: [26, 10] },
  { type: 'alnum', options: { keepLast: 2 }, normalized: '\u00c9t\u00e9 42', ints: [1, 2, 3], token: 'Bcd 42' },
  {
    type: 'text',
    options: {},
    normalized: 'anything',
    ints: Array.from({ length: 22 }, (_, i) => i),
    token: 'tok_0123456789ABCDEFGHIJKL',
    draws: Array<number>(22).fill(62),
  },
  { type: 'text', options: {}, normalized: 'anything', ints: [61], token: `tok_${'z'.repeat(22)}` },
];

/** keepYear cannot be bound (365 tokens a year); the format itself still draws within the year. */
export const keepYearVectors: readonly (readonly [normalized: string, dayOfYear: number, token: string, daysInYear: number])[] = [
  ['2024-06-15', 0, '2024-01-01', 366],
  ['2024-06-15', 59, '2024-02-29', 366],
  ['2024-06-15', 365, '2024-12-31', 366],
  ['2023-06-15', 59, '2023-03-01', 365],
  ['2023-06-15', 364, '2023-12-31', 365],
  ['2000-06-15', 365, '2000-12-31', 366],
  ['1900-06-15', 59, '1900-03-01', 365],
  // Date.UTC maps years below 100 into the 1900s: the year is set explicitly.
  ['0050-06-15', 0, '0050-01-01', 365],
];

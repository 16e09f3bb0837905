import { beforeEach, describe, expect, it, vi } from 'vitest';

// The pooled source reads node:crypto's randomFillSync; here it is replaced by a scripted filler,
// so what the source does with each 32-bit draw is observable exactly (rather than statistically).
const fake = vi.hoisted(() => ({ words: [0] as number[], calls: [] as Buffer[] }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    randomFillSync: <T extends NodeJS.ArrayBufferView>(buf: T): T => {
      const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      fake.calls.push(b);
      for (let i = 0; i + 4 <= b.length; i += 4) b.writeUInt32LE(fake.words[(i / 4) % fake.words.length]!, i);
      return buf;
    },
  };
});

const { createPooledRandom } = await import('../../src/crypto/random.js');
const { ALPHABETS, randomString } = await import('../../src/formats/random.js');

const POOL = 64 * 1024;
const Q = 2 ** 30;

beforeEach(() => {
  fake.words = [0];
  fake.calls = [];
});

describe('pooled random source', () => {
  it('rejection sampling: a range of 3·2^30 stays uniform when the raw draws cycle through all four quarters', () => {
    // Without rejection the fourth quarter folds onto the first: 150 / 75 / 75 instead of 100 each.
    fake.words = [0, Q, 2 * Q, 3 * Q];
    const r = createPooledRandom();
    const thirds = [0, 0, 0];
    for (let i = 0; i < 300; i++) thirds[Math.floor(r.int(3 * Q) / Q)]!++;
    expect(thirds).toEqual([100, 100, 100]);
  });

  it('rejection sampling: the largest multiple of max is the first value refused', () => {
    // For max 3 the limit is 2^32 - 1: 0xffffffff is redrawn, 0xfffffffe is the last accepted value.
    fake.words = [0xffffffff, 0xfffffffe, 7];
    const r = createPooledRandom();
    expect([r.int(3), r.int(3)]).toEqual([0xfffffffe % 3, 7 % 3]);
  });

  it('int range guard: 1 … 2^32 integers only', () => {
    fake.words = [0xdeadbeef];
    const r = createPooledRandom();
    // Values that would not hang an unguarded loop come first, so a missing guard fails rather than spins.
    for (const bad of [-1, 1.5, 0, NaN, Infinity, 2 ** 32 + 1]) expect(() => r.int(bad)).toThrow(new RangeError('max out of range'));
    expect(r.int(1)).toBe(0);
    expect(r.int(2 ** 32)).toBe(0xdeadbeef);
    expect(r.int(16)).toBe(0xdeadbeef % 16);
  });

  it('bytes come from the pool in order, and the pool is wiped behind them', () => {
    fake.words = [0x04030201, 0x08070605];
    const r = createPooledRandom();
    expect(r.bytes(3).toString('hex')).toBe('010203');
    expect(r.bytes(6).toString('hex')).toBe('040506070801');
    expect(fake.calls).toHaveLength(1);
    // What was handed out is no longer in the pool (a later caller cannot see it).
    expect(fake.calls[0]!.subarray(0, 9).equals(Buffer.alloc(9))).toBe(true);
    expect(fake.calls[0]!.subarray(9, 12).toString('hex')).toBe('020304');
  });

  it('refills exactly when the pool runs out, for bytes and for integers', () => {
    const r = createPooledRandom();
    r.bytes(POOL - 4);
    expect(fake.calls).toHaveLength(1);
    r.int(2 ** 32); // the last 4 bytes still fit
    expect(fake.calls).toHaveLength(1);
    r.bytes(1);
    expect(fake.calls).toHaveLength(2);
    r.bytes(POOL - 4);
    r.int(2); // 3 bytes left: too few for a word, so a fresh pool and 4 bytes of it taken
    expect(fake.calls).toHaveLength(3);
    r.bytes(POOL - 8);
    r.bytes(4); // exactly the rest
    expect(fake.calls).toHaveLength(3);
    r.bytes(1);
    expect(fake.calls).toHaveLength(4);
  });

  it('a request larger than the pool is filled directly, leaving the pool alone', () => {
    const r = createPooledRandom();
    r.bytes(1);
    expect(r.bytes(POOL + 1)).toHaveLength(POOL + 1);
    expect(fake.calls.map((c) => c.length)).toEqual([POOL, POOL + 1]);
    expect(r.bytes(POOL)).toHaveLength(POOL);
    expect(fake.calls.map((c) => c.length)).toEqual([POOL, POOL + 1, POOL]);
    // That last one came from the pool (now spent), so the next byte needs a fresh pool.
    r.bytes(1);
    expect(fake.calls.map((c) => c.length)).toEqual([POOL, POOL + 1, POOL, POOL]);
  });

  it('randomString draws one character per position from the alphabet', () => {
    fake.words = [0, 1, 61, 62];
    const r = createPooledRandom();
    expect(randomString(r, ALPHABETS.base62, 4)).toBe('01z0');
    expect(randomString(r, ALPHABETS.digits, 0)).toBe('');
  });

  it('alphabets are the documented ones', () => {
    expect(ALPHABETS).toEqual({
      digits: '0123456789',
      lower: 'abcdefghijklmnopqrstuvwxyz',
      upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      lowerAlnum: 'abcdefghijklmnopqrstuvwxyz0123456789',
      base62: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { createTokenCache } from '../../src/vault/token-cache.js';

describe('token cache epochs', () => {
  it('caches nothing before the erasure head is known, and only under the current head after', () => {
    const cache = createTokenCache();
    cache.set('fp', 'tok', undefined);
    cache.set('fp', 'tok', 0);
    expect(cache.size).toBe(0);
    expect(cache.advance(3)).toBe(true);
    cache.set('fp', 'tok', 3);
    expect(cache.get('fp')).toBe('tok');
  });

  it('a higher head empties it; an entry confirmed under an older head is refused (a batch that read before an erasure)', () => {
    const cache = createTokenCache();
    cache.advance(1);
    cache.set('a', 'tok-a', 1);
    expect(cache.advance(1)).toBe(false);
    expect(cache.advance(0)).toBe(false);
    expect(cache.get('a')).toBe('tok-a');
    expect(cache.advance(2)).toBe(true);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 'tok-a', 1);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.epoch).toBe(2);
  });

  it('reset forgets the head too, so nothing is cached until it is read again', () => {
    const cache = createTokenCache();
    cache.advance(5);
    cache.set('a', 'tok-a', 5);
    cache.reset();
    expect([cache.size, cache.epoch]).toEqual([0, undefined]);
    cache.set('a', 'tok-a', 5);
    expect(cache.size).toBe(0);
  });
});

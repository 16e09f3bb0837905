/**
 * fingerprint → token for values tokenized before and met again, in consistent namespaces (the
 * tokenizer does not cache a value it has just created). Cleared whenever an erasure is seen
 * (locally at once, on other instances by the erasure watcher within a second), so a cache hit
 * can never return an erased token for longer than that.
 */
export function createTokenCache(maxEntries = 100_000) {
  let map = new Map<string, string>();
  let hits = 0;
  let misses = 0;
  return {
    get(fp: string) {
      const token = map.get(fp);
      if (token === undefined) misses++;
      else hits++;
      return token;
    },
    /** Lookups since start, for the metrics. */
    stats: () => ({ hits, misses }),
    set(fp: string, token: string) {
      // Cheap bound: drop everything when full (repeat values refill it at once).
      if (map.size >= maxEntries) map = new Map();
      map.set(fp, token);
    },
    clear() {
      map = new Map();
    },
    get size() {
      return map.size;
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;

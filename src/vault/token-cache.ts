/**
 * fingerprint → token for values tokenized before and met again, in consistent namespaces (the
 * tokenizer does not cache a value it has just created).
 *
 * The cache belongs to one erasure epoch: the erasure feed head (highest `erasures.seq`) under
 * which every entry was last seen to exist. Entries are added only under the current epoch, and
 * seeing a higher head empties the cache. That alone would leave a window (until the head is
 * seen), so the tokenizer reads the head inside each transaction that answers from the cache or
 * from mappings it did not create, and trusts those answers only if the head is still this epoch
 * (or re-checks them when it is not). A flush that read a mapping before an erasure and fills the
 * cache after it is thereby refused: it carries the old epoch.
 */
export function createTokenCache(maxEntries = 100_000) {
  let map = new Map<string, string>();
  /** Undefined until the head is first seen: then nothing is cached. */
  let epoch: number | undefined;
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
    get epoch() {
      return epoch;
    },
    /** Adds an entry seen to exist while the head was `seenAt`; dropped if the epoch moved on. */
    set(fp: string, token: string, seenAt: number | undefined) {
      if (seenAt === undefined || seenAt !== epoch) return;
      // Cheap bound: drop everything when full (repeat values refill it at once).
      if (map.size >= maxEntries) map = new Map();
      map.set(fp, token);
    },
    /** The erasure head as read from the database: a higher one starts a new, empty epoch. */
    advance(head: number): boolean {
      if (epoch !== undefined && head <= epoch) return false;
      epoch = head;
      map = new Map();
      return true;
    },
    /** The head is unknown (database unreachable): forget everything until it is seen again. */
    reset() {
      epoch = undefined;
      map = new Map();
    },
    get size() {
      return map.size;
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;

import type { Executor } from '../db/client.js';
import type { RevealCountersRepository } from '../db/repositories/reveal-counters-repository.js';
import type { Principal } from './principal.js';

export type BudgetResult = { ok: true } | { ok: false; retryAfter: number };

/**
 * A window is counted in this many buckets. Every bucket that overlaps the last window counts in
 * full, so no span of one window ever holds more reveals than the budget (a fixed window let 2×
 * through across its boundary); the price is that a reveal is remembered up to one bucket longer.
 */
const BUCKETS_PER_WINDOW = 60;

/**
 * Reveal budgets: N revealed values per principal per sliding window, counted in PostgreSQL so
 * every instance shares one count. The increment is a single conditional upsert: it succeeds only
 * while the new total stays within the budget, so concurrent reveals can never overshoot it.
 * The limit is the principal's (set from the client row or the IdP group mapping at
 * authentication, never from a token claim), else the configured default.
 */
export function createRevealBudget(opts: {
  defaultBudget: number;
  windowSeconds: number;
  counters: RevealCountersRepository;
  now?: () => number;
}) {
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowSeconds * 1000;
  const bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS_PER_WINDOW));
  const limitOf = (p: Principal) => p.revealBudget ?? opts.defaultBudget;
  let lastCleanup = 0;

  function buckets() {
    const t = now();
    const oldest = Math.floor((t - windowMs) / bucketMs) * bucketMs;
    return {
      current: new Date(Math.floor(t / bucketMs) * bucketMs).toISOString(),
      oldest: new Date(oldest).toISOString(),
      // When the oldest counted bucket leaves the window: the earliest a refusal can change.
      retryAfter: Math.max(1, Math.ceil((oldest + bucketMs + windowMs - t) / 1000)),
    };
  }

  /** Deletes the counters no window can reach any more, at most once a window. */
  async function prune(ex: Executor): Promise<void> {
    const t = now();
    if (t - lastCleanup <= windowMs) return;
    lastCleanup = t;
    await opts.counters.deleteBefore({ tx: ex, before: new Date(buckets().oldest) });
  }

  return {
    prune,

    async consume(tx: Executor, principal: Principal, n: number): Promise<BudgetResult> {
      const { current, oldest, retryAfter } = buckets();
      const limit = limitOf(principal);
      if (n > limit) return { ok: false, retryAfter };
      if (!(await opts.counters.claim({ tx, principal: principal.id, windowStart: current, oldest, count: n, limit })))
        return { ok: false, retryAfter };
      await prune(tx);
      return { ok: true };
    },
  };
}

export type RevealBudget = ReturnType<typeof createRevealBudget>;

import type { Executor } from '../db/client.js';
import type { RevealCountersRepository } from '../db/repositories/reveal-counters-repository.js';
import type { Principal } from './principal.js';

export type BudgetResult = { ok: true } | { ok: false; retryAfter: number };

/**
 * Reveal budgets: N revealed values per principal per fixed window, counted in PostgreSQL so every
 * instance shares one count. The increment is a single conditional upsert: it succeeds only while
 * the new total stays within the budget, so concurrent reveals can never overshoot it.
 */
export function createRevealBudget(opts: { defaultBudget: number; windowSeconds: number; counters: RevealCountersRepository; now?: () => number }) {
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowSeconds * 1000;
  const limitOf = (p: Principal) => p.revealBudget ?? opts.defaultBudget;
  let lastCleanup = 0;

  function currentWindow() {
    const t = now();
    const start = Math.floor(t / windowMs) * windowMs;
    return { start: new Date(start).toISOString(), retryAfter: Math.max(1, Math.ceil((start + windowMs - t) / 1000)) };
  }

  /** Deletes the counters of past windows, at most once a window. */
  async function prune(ex: Executor): Promise<void> {
    const t = now();
    if (t - lastCleanup <= windowMs) return;
    lastCleanup = t;
    await opts.counters.deleteBefore({ tx: ex, before: new Date(Math.floor(t / windowMs) * windowMs - windowMs) });
  }

  return {
    prune,

    async consume(tx: Executor, principal: Principal, n: number): Promise<BudgetResult> {
      const { start, retryAfter } = currentWindow();
      const limit = limitOf(principal);
      if (n > limit) return { ok: false, retryAfter };
      if (!(await opts.counters.claim({ tx, principal: principal.id, windowStart: start, count: n, limit }))) return { ok: false, retryAfter };
      await prune(tx);
      return { ok: true };
    },
  };
}

export type RevealBudget = ReturnType<typeof createRevealBudget>;

import type { AppendGuard } from '../audit/audit-log.js';
import type { Executor } from '../db/client.js';
import type { RevealCountersRepository } from '../db/repositories/reveal-counters-repository.js';
import type { Principal } from './principal.js';

export type BudgetResult = { ok: true } | { ok: false; retryAfter: number };

/**
 * Claims reveals of several principals ($7 principals, $8 window start, $9 counts, $10 limits)
 * as the guard of an audit append (once it has moved the head): ok only when every principal's new
 * total stays within its limit.
 */
const CLAIM_GUARD_CTES = `
  claimed as (
    insert into reveal_counters (principal, window_start, count)
    select p, $8::timestamptz, n from unnest($7::text[], $9::int[]) as u(p, n) where (select ok from moved)
    on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
    where reveal_counters.count + excluded.count <= (select l from unnest($7::text[], $10::int[]) as x(p, l) where x.p = excluded.principal)
    returning 1
  ),
  guard as (select count(*) = cardinality($7::text[]) as ok from claimed)`;

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

    /**
     * The claim of `count` reveals for each principal (each named once), as the guard of the
     * append of their audit rows; null when there is nothing to claim, or when one claim exceeds a
     * whole budget by itself.
     */
    guard(claims: { principal: Principal; count: number }[]): AppendGuard | null {
      if (claims.length === 0 || claims.some((c) => c.count > limitOf(c.principal))) return null;
      return {
        name: 'reveal_budget',
        ctes: CLAIM_GUARD_CTES,
        params: [claims.map((c) => c.principal.id), currentWindow().start, claims.map((c) => c.count), claims.map((c) => limitOf(c.principal))],
      };
    },
  };
}

export type RevealBudget = ReturnType<typeof createRevealBudget>;

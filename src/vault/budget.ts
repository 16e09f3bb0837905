import type { AppendGuard } from '../audit/audit-log.js';
import type { Executor } from '../db/client.js';
import { earlierReveals, type RevealCountersRepository } from '../db/repositories/reveal-counters-repository.js';
import type { Principal } from './principal.js';

export type BudgetResult = { ok: true } | { ok: false; retryAfter: number };

/**
 * A window is counted in this many buckets. Every bucket that overlaps the last window counts in
 * full, so no span of one window ever holds more reveals than the budget (a fixed window let 2×
 * through across its boundary); the price is that a reveal is remembered up to one bucket longer.
 */
const BUCKETS_PER_WINDOW = 60;

/**
 * Claims reveals of several principals ($7 principals, $8 current bucket, $9 counts, $10 limits,
 * $11 oldest bucket) as the guard of an audit append (once it has moved the head): ok only when
 * every principal's new total over the sliding window stays within its limit.
 */
const CLAIM_GUARD_CTES = `
  claimed as (
    insert into reveal_counters (principal, window_start, count)
    select u.p, $8::timestamptz, u.n from unnest($7::text[], $9::int[], $10::int[]) as u(p, n, l)
    where (select ok from moved) and ${earlierReveals('u.p', '$8::timestamptz', '$11::timestamptz')} + u.n <= u.l
    on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
    where ${earlierReveals('excluded.principal', '$8::timestamptz', '$11::timestamptz')} + reveal_counters.count + excluded.count
      <= (select l from unnest($7::text[], $10::int[]) as x(p, l) where x.p = excluded.principal)
    returning 1
  ),
  guard as (select count(*) = cardinality($7::text[]) as ok from claimed)`;

/**
 * Reveal budgets: N revealed values per principal per sliding window, counted in PostgreSQL so
 * every instance shares one count. The increment is a single conditional upsert: it succeeds only
 * while the new total stays within the budget, so concurrent reveals can never overshoot it.
 * The limit is the principal's (set from the client row or the IdP group mapping at
 * authentication, never from a token claim), else the configured default.
 */
export function createRevealBudget(opts: { defaultBudget: number; windowSeconds: number; counters: RevealCountersRepository; now?: () => number }) {
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
      if (!(await opts.counters.claim({ tx, principal: principal.id, windowStart: current, oldest, count: n, limit }))) return { ok: false, retryAfter };
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
      const { current, oldest } = buckets();
      return {
        name: 'reveal_budget',
        ctes: CLAIM_GUARD_CTES,
        params: [claims.map((c) => c.principal.id), current, claims.map((c) => c.count), claims.map((c) => limitOf(c.principal)), oldest],
      };
    },
  };
}

export type RevealBudget = ReturnType<typeof createRevealBudget>;

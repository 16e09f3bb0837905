import { sql } from 'drizzle-orm';
import type { AppendGuard } from '../audit/audit-log.js';
import { hotQuery, type Executor } from '../db/client.js';
import type { Principal } from './principal.js';

export type BudgetResult = { ok: true } | { ok: false; retryAfter: number };

/**
 * A window is counted in this many buckets. Every bucket that overlaps the last window counts in
 * full, so no span of one window ever holds more reveals than the budget (a fixed window let 2×
 * through across its boundary); the price is that a reveal is remembered up to one bucket longer.
 */
const BUCKETS_PER_WINDOW = 60;

/**
 * The reveals already counted for a principal in the buckets before the current one ($cur) and
 * not older than the window ($oldest). Past buckets no longer change; the current bucket's row is
 * the one the upsert locks, so two increments of one principal serialize on it and the second one
 * is checked against the first one's committed count.
 */
const earlier = (principal: string, cur: string, oldest: string) =>
  `coalesce((select sum(r.count) from reveal_counters r where r.principal = ${principal} and r.window_start >= ${oldest} and r.window_start < ${cur}), 0)`;

/**
 * Claims reveals of several principals ($7 principals, $8 current bucket, $9 counts, $10 limits,
 * $11 oldest bucket) as the guard of an audit append (once it has moved the head): ok only when
 * every principal's new total over the sliding window stays within its limit.
 */
const CLAIM_GUARD_CTES = `
  claimed as (
    insert into reveal_counters (principal, window_start, count)
    select u.p, $8::timestamptz, u.n from unnest($7::text[], $9::int[], $10::int[]) as u(p, n, l)
    where (select ok from moved) and ${earlier('u.p', '$8::timestamptz', '$11::timestamptz')} + u.n <= u.l
    on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
    where ${earlier('excluded.principal', '$8::timestamptz', '$11::timestamptz')} + reveal_counters.count + excluded.count
      <= (select l from unnest($7::text[], $10::int[]) as x(p, l) where x.p = excluded.principal)
    returning 1
  ),
  guard as (select count(*) = cardinality($7::text[]) as ok from claimed)`;

/** One principal's claim ($1 principal, $2 current bucket, $3 count, $4 limit, $5 oldest bucket). */
const CONSUME_SQL = `
  insert into reveal_counters (principal, window_start, count)
  select $1::text, $2::timestamptz, $3::int where ${earlier('$1', '$2::timestamptz', '$5::timestamptz')} + $3::int <= $4::int
  on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
  where ${earlier('excluded.principal', '$2::timestamptz', '$5::timestamptz')} + reveal_counters.count + excluded.count <= $4::int
  returning count`;

/**
 * Reveal budgets: N revealed values per principal per sliding window, counted in PostgreSQL so
 * every instance shares one count. The increment is a single conditional upsert: it succeeds only
 * while the new total stays within the budget, so concurrent reveals can never overshoot it.
 * The limit is the principal's (set from the client row or the IdP group mapping at
 * authentication, never from a token claim), else the configured default.
 */
export function createRevealBudget(opts: { defaultBudget: number; windowSeconds: number; now?: () => number }) {
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
    await ex.execute(sql`delete from reveal_counters where window_start < ${buckets().oldest}`);
  }

  return {
    prune,

    async consume(tx: Executor, principal: Principal, n: number): Promise<BudgetResult> {
      const { current, oldest, retryAfter } = buckets();
      const limit = limitOf(principal);
      if (n > limit) return { ok: false, retryAfter };
      const r = await hotQuery<{ count: number }>(tx, 'tv_budget_consume_sliding', CONSUME_SQL, [principal.id, current, n, limit, oldest]);
      if (!r.length) return { ok: false, retryAfter };
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

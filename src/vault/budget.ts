import { sql } from 'drizzle-orm';
import { hotQuery, type Executor } from '../db/client.js';
import type { Principal } from './principal.js';

export type BudgetResult = { ok: true } | { ok: false; retryAfter: number };

/**
 * Reveal budgets: N revealed values per principal per fixed window, counted in PostgreSQL so every
 * instance shares one count. The increment is a single conditional upsert: it succeeds only while
 * the new total stays within the budget, so concurrent reveals can never overshoot it.
 */
export function createRevealBudget(opts: { defaultBudget: number; windowSeconds: number; now?: () => number }) {
  const now = opts.now ?? Date.now;
  const windowMs = opts.windowSeconds * 1000;
  let lastCleanup = 0;

  return {
    async consume(tx: Executor, principal: Principal, n: number): Promise<BudgetResult> {
      const t = now();
      const start = Math.floor(t / windowMs) * windowMs;
      const retryAfter = Math.max(1, Math.ceil((start + windowMs - t) / 1000));
      const limit = principal.revealBudget ?? opts.defaultBudget;
      if (n > limit) return { ok: false, retryAfter };
      const r = await hotQuery<{ count: number }>(tx, 'tv_budget_consume', `
        insert into reveal_counters (principal, window_start, count) values ($1, $2, $3)
        on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
        where reveal_counters.count + excluded.count <= $4
        returning count`, [principal.id, new Date(start).toISOString(), n, limit]);
      if (!r.length) return { ok: false, retryAfter };
      if (t - lastCleanup > windowMs) {
        lastCleanup = t;
        await tx.execute(sql`delete from reveal_counters where window_start < ${new Date(start - windowMs).toISOString()}`);
      }
      return { ok: true };
    },
  };
}

export type RevealBudget = ReturnType<typeof createRevealBudget>;

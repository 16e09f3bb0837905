import { lt } from 'drizzle-orm';
import { hotQuery, type Executor } from '../client.js';
import { revealCountersTable } from '../schema.js';

/**
 * Adds `count` to a principal's window only while the total stays within `limit`; no row back
 * means refused. Prepared raw SQL: every reveal runs it, and a conditional upsert has no builder form.
 */
const CLAIM_SQL = `
        insert into reveal_counters (principal, window_start, count) values ($1, $2, $3)
        on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
        where reveal_counters.count + excluded.count <= $4
        returning count`;

/** Revealed-value counters per principal and fixed window. */
export function createRevealCountersRepository({ db }: { db: Executor }) {
  return {
    /** True when the claim fit within the limit (and was counted). */
    async claim({
      tx,
      principal,
      windowStart,
      count,
      limit,
    }: {
      tx: Executor;
      principal: string;
      windowStart: string;
      count: number;
      limit: number;
    }): Promise<boolean> {
      const r = await hotQuery<{ count: number }>(tx, 'tv_budget_consume', CLAIM_SQL, [principal, windowStart, count, limit]);
      return r.length > 0;
    },

    /** Deletes the counters of windows that started before `before`. */
    async deleteBefore({ tx = db, before }: { tx?: Executor; before: Date }): Promise<void> {
      await tx.delete(revealCountersTable).where(lt(revealCountersTable.windowStart, before));
    },
  };
}

export type RevealCountersRepository = ReturnType<typeof createRevealCountersRepository>;

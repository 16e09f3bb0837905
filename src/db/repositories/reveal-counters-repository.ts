import { lt } from 'drizzle-orm';
import { hotQuery, type Executor } from '../client.js';
import { revealCountersTable } from '../schema.js';

/**
 * The reveals already counted for a principal in the buckets before the current one ($cur) and
 * not older than the window ($oldest). Past buckets no longer change; the current bucket's row is
 * the one the upsert locks, so two increments of one principal serialize on it and the second one
 * is checked against the first one's committed count.
 */
export const earlierReveals = (principal: string, cur: string, oldest: string) =>
  `coalesce((select sum(r.count) from reveal_counters r where r.principal = ${principal} and r.window_start >= ${oldest} and r.window_start < ${cur}), 0)`;

/**
 * Adds `count` to a principal's current bucket only while the total over the sliding window
 * stays within `limit` ($1 principal, $2 current bucket, $3 count, $4 limit, $5 oldest bucket);
 * no row back means refused. Prepared raw SQL: every reveal runs it, and a conditional upsert has
 * no builder form.
 */
const CLAIM_SQL = `
  insert into reveal_counters (principal, window_start, count)
  select $1::text, $2::timestamptz, $3::int where ${earlierReveals('$1', '$2::timestamptz', '$5::timestamptz')} + $3::int <= $4::int
  on conflict (principal, window_start) do update set count = reveal_counters.count + excluded.count
  where ${earlierReveals('excluded.principal', '$2::timestamptz', '$5::timestamptz')} + reveal_counters.count + excluded.count <= $4::int
  returning count`;

/** Revealed-value counters per principal and bucket of the sliding window. */
export function createRevealCountersRepository({ db }: { db: Executor }) {
  return {
    /** True when the claim fit within the limit (and was counted). */
    async claim({
      tx,
      principal,
      windowStart,
      oldest,
      count,
      limit,
    }: {
      tx: Executor;
      principal: string;
      /** The current bucket. */
      windowStart: string;
      /** The oldest bucket the window still reaches. */
      oldest: string;
      count: number;
      limit: number;
    }): Promise<boolean> {
      const r = await hotQuery<{ count: number }>(tx, 'tv_budget_consume_sliding', CLAIM_SQL, [
        principal,
        windowStart,
        count,
        limit,
        oldest,
      ]);
      return r.length > 0;
    },

    /** Deletes the counters of buckets that started before `before`. */
    async deleteBefore({ tx = db, before }: { tx?: Executor; before: Date }): Promise<void> {
      await tx.delete(revealCountersTable).where(lt(revealCountersTable.windowStart, before));
    },
  };
}

export type RevealCountersRepository = ReturnType<typeof createRevealCountersRepository>;

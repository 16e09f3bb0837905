import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { isConnectionError, type Db, type Executor } from '../db/client.js';
import { errors } from '../errors.js';
import { createBatcher } from './batcher.js';
import type { BudgetResult, RevealBudget } from './budget.js';
import type { Principal } from './principal.js';

export interface AuditJob {
  events: AuditEvent[];
  /** Reveals to count against a budget before the events may commit. */
  reveal?: { principal: Principal; count: number; refusedEvent: AuditEvent };
}

/**
 * Commits audit events — and the reveal budgets they depend on — for many concurrent requests
 * together, in one transaction (one commit for many requests). A job whose budget is exhausted
 * gets its refusal recorded instead of its events, and its caller receives 429; the other jobs are
 * unaffected.
 */
export function createAuditWriter(deps: { db: Db; budget: RevealBudget; auditLog: AuditLog }) {
  /**
   * The reveals of the jobs, summed per principal, in principal order: two flushes running at
   * once lock the budget rows they share in the same order, so they cannot deadlock.
   */
  function claimsOf(jobs: AuditJob[]) {
    const byPrincipal = new Map<string, { principal: Principal; count: number; jobs: number[] }>();
    jobs.forEach((job, i) => {
      if (!job.reveal || job.reveal.count === 0) return;
      const c = byPrincipal.get(job.reveal.principal.id) ?? { principal: job.reveal.principal, count: 0, jobs: [] };
      c.count += job.reveal.count;
      c.jobs.push(i);
      byPrincipal.set(c.principal.id, c);
    });
    return [...byPrincipal.values()].sort((a, b) => (a.principal.id < b.principal.id ? -1 : a.principal.id > b.principal.id ? 1 : 0));
  }

  /**
   * One budget increment per principal for the whole flush; only when that one is refused are the
   * principal's jobs counted one by one, so as many as fit still pass.
   */
  async function consumeBudgets(tx: Executor, jobs: AuditJob[]): Promise<BudgetResult[]> {
    const outcomes: BudgetResult[] = jobs.map(() => ({ ok: true }));
    for (const claim of claimsOf(jobs)) {
      const all = await deps.budget.consume(tx, claim.principal, claim.count);
      if (all.ok || claim.jobs.length === 1) {
        for (const i of claim.jobs) outcomes[i] = all;
        continue;
      }
      for (const i of claim.jobs) outcomes[i] = await deps.budget.consume(tx, claim.principal, jobs[i]!.reveal!.count);
    }
    return outcomes;
  }

  /** A job's own failure, delivered to that job only. */
  type Outcome = BudgetResult | { failed: unknown };

  const batcher = createBatcher<AuditJob, Outcome>({
    maxJobs: 500,
    // The audit insert takes no shared lock; two flushes at once keep the pool's other
    // connections for the reveal lookups.
    concurrency: 2,
    async run(jobs) {
      try {
        return await flush(jobs);
      } catch (err) {
        if (jobs.length === 1 || isConnectionError(err)) throw err;
        // One request's event the database refuses must not fail the requests batched with it:
        // each is committed on its own, and only the bad one fails.
        const outcomes: Outcome[] = [];
        for (const job of jobs)
          outcomes.push(
            await flush([job]).then(
              (r) => r[0]!,
              (e: unknown) => ({ failed: e }),
            ),
          );
        return outcomes;
      }
    },
  });

  async function flush(jobs: AuditJob[]): Promise<BudgetResult[]> {
    if (jobs.every((job) => !job.reveal || job.reveal.count === 0)) {
      // Nothing to count: one statement commits the rows by itself.
      await deps.auditLog.append(
        deps.db,
        jobs.flatMap((job) => job.events),
      );
      return jobs.map(() => ({ ok: true }));
    }
    return deps.db.transaction(async (tx) => {
      const outcomes = await consumeBudgets(tx, jobs);
      await deps.auditLog.append(
        tx,
        jobs.flatMap((job, i) => (outcomes[i]!.ok ? job.events : [job.reveal!.refusedEvent])),
      );
      return outcomes;
    });
  }

  return {
    /** Resolves once the events have committed; throws REVEAL_BUDGET_EXCEEDED when the budget refused. */
    async commit(job: AuditJob): Promise<void> {
      const r = await batcher.submit(job);
      if ('failed' in r) throw r.failed;
      if (!r.ok) throw errors.budgetExceeded(r.retryAfter);
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;

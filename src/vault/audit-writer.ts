import { appendAudit, type AuditEvent } from '../audit/audit-log.js';
import type { Db } from '../db/client.js';
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
 * Commits audit events — and the reveal budgets they depend on — for many concurrent requests in
 * one transaction. A job whose budget is exhausted gets its refusal recorded instead of its
 * events, and its caller receives 429; the other jobs are unaffected.
 */
export function createAuditWriter(deps: { db: Db; budget: RevealBudget }) {
  const batcher = createBatcher<AuditJob, BudgetResult>({
    maxJobs: 500,
    concurrency: 2,
    run: (jobs) =>
      deps.db.transaction(async (tx) => {
        const outcomes: BudgetResult[] = [];
        const events: AuditEvent[] = [];
        for (const job of jobs) {
          const r = job.reveal && job.reveal.count > 0 ? await deps.budget.consume(tx, job.reveal.principal, job.reveal.count) : ({ ok: true } as const);
          outcomes.push(r);
          events.push(...(r.ok ? job.events : [job.reveal!.refusedEvent]));
        }
        await appendAudit(tx, events);
        return outcomes;
      }),
  });

  return {
    /** Resolves once the events have committed; throws REVEAL_BUDGET_EXCEEDED when the budget refused. */
    async commit(job: AuditJob): Promise<void> {
      const r = await batcher.submit(job);
      if (!r.ok) throw errors.budgetExceeded(r.retryAfter);
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;

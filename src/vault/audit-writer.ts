import { appendAudit, appendAuditHeadFirst, type AuditEvent } from '../audit/audit-log.js';
import { isConnectionError, isPool, withConnection, type Db, type Executor } from '../db/client.js';
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
 * together: in one statement while every budget has room, else in one transaction. A job whose
 * budget is exhausted gets its refusal recorded instead of its events, and its caller receives 429;
 * the other jobs are unaffected.
 */
export function createAuditWriter(deps: { db: Db; budget: RevealBudget }) {
  /** The reveals of the jobs, summed per principal. */
  function claimsOf(jobs: AuditJob[]) {
    const byPrincipal = new Map<string, { principal: Principal; count: number; jobs: number[] }>();
    jobs.forEach((job, i) => {
      if (!job.reveal || job.reveal.count === 0) return;
      const c = byPrincipal.get(job.reveal.principal.id) ?? { principal: job.reveal.principal, count: 0, jobs: [] };
      c.count += job.reveal.count;
      c.jobs.push(i);
      byPrincipal.set(c.principal.id, c);
    });
    return [...byPrincipal.values()];
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
    // One commit at a time: two would only queue at the chain head, each holding one of the pool's
    // connections that the reveal lookups need (measured: single reveals ~3,700 vs ~3,200 req/s).
    concurrency: 1,
    async run(jobs) {
      try {
        return await flush(jobs);
      } catch (err) {
        if (jobs.length === 1 || isConnectionError(err)) throw err;
        // One request's event the database refuses must not fail the requests batched with it:
        // each is committed on its own, and only the bad one fails.
        const outcomes: Outcome[] = [];
        for (const job of jobs) outcomes.push(await flush([job]).then((r) => r[0]!, (e: unknown) => ({ failed: e })));
        return outcomes;
      }
    },
  });

  async function flush(jobs: AuditJob[]): Promise<BudgetResult[]> {
    // On PostgreSQL, usually one statement and no transaction: it claims every budget and
    // appends every event, or (a budget refused) writes nothing, and the transaction below sorts
    // the jobs out one by one. Both lock the chain head before any budget row. (PGlite, one
    // connection held only by transactions, always takes the transaction.)
    const claims = claimsOf(jobs);
    const guard = deps.budget.guard(claims);
    const events = jobs.flatMap((job) => job.events);
    if (isPool(deps.db) && (guard || claims.length === 0) && (await withConnection(deps.db, (ex) => appendAudit(ex, events, guard ?? undefined)))) {
      // Housekeeping only: the reveals have committed, a failure here must not fail them.
      await deps.budget.prune(deps.db).catch(() => undefined);
      return jobs.map(() => ({ ok: true }));
    }
    return deps.db.transaction(async (tx) => {
      let outcomes: BudgetResult[] = [];
      await appendAuditHeadFirst(tx, async () => {
        outcomes = await consumeBudgets(tx, jobs);
        return jobs.flatMap((job, i) => (outcomes[i]!.ok ? job.events : [job.reveal!.refusedEvent]));
      });
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

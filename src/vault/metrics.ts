import { Counter, Gauge, type Registry } from 'prom-client';
import type pg from 'pg';
import type { AppError } from '../errors.js';
import type { DetokenizeResult } from './detokenize.js';
import type { Principal } from './principal.js';
import type { TokenCache } from './token-cache.js';
import type { TokenizeResult } from './tokenize.js';

/**
 * Pipeline metrics (SPEC §9). Labels are namespaces, token types, outcomes and client ids (random
 * UUIDs): never a value, a subject, a token, or a staff member's IdP subject (which may be an email).
 */
export function createVaultMetrics(registry: Registry) {
  const registers = [registry];
  const values = new Counter({
    name: 'tokenvault_tokenize_values_total',
    help: 'Tokenized items by namespace, type and result (created: a new mapping; existing: one already held)',
    labelNames: ['namespace', 'type', 'result'],
    registers,
  });
  const reveals = new Counter({
    name: 'tokenvault_reveals_total',
    help: 'Tokens asked for in detokenize requests, by namespace and outcome (ok, forbidden, not_found, erased, budget)',
    labelNames: ['namespace', 'outcome'],
    registers,
  });
  const erasures = new Counter({
    name: 'tokenvault_erasures_total',
    help: 'Completed erasures by method',
    labelNames: ['method'],
    registers,
  });
  const erased = new Counter({ name: 'tokenvault_erased_tokens_total', help: 'Tokens erased', registers });
  // For the guessing-pattern alert (one principal that both mints many values and reveals): per
  // service client only; staff principals are summed under "staff".
  const byPrincipal = new Counter({
    name: 'tokenvault_principal_values_total',
    help: 'Values created, found existing and revealed, per service client (staff summed as "staff")',
    labelNames: ['principal', 'action'],
    registers,
  });
  const principalLabel = (p: Principal) => (p.kind === 'client' ? p.id : 'staff');

  return {
    tokenized(principal: Principal, namespace: string, results: TokenizeResult[]): void {
      const counts = new Map<string, [number, number]>();
      for (const r of results) {
        if (!('token' in r)) continue;
        const c = counts.get(r.type) ?? counts.set(r.type, [0, 0]).get(r.type)!;
        c[r.created ? 0 : 1]++;
      }
      let created = 0;
      let existing = 0;
      for (const [type, [c, e]] of counts) {
        if (c) values.inc({ namespace, type, result: 'created' }, c);
        if (e) values.inc({ namespace, type, result: 'existing' }, e);
        created += c;
        existing += e;
      }
      // Many existing values from one principal may be guessing (consistent tokens are an equality oracle).
      if (created) byPrincipal.inc({ principal: principalLabel(principal), action: 'created' }, created);
      if (existing) byPrincipal.inc({ principal: principalLabel(principal), action: 'existing' }, existing);
    },
    revealed(principal: Principal, namespace: string, results: DetokenizeResult[]): void {
      const counts = new Map<string, number>();
      for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      for (const [outcome, n] of counts) reveals.inc({ namespace, outcome }, n);
      const ok = counts.get('ok');
      if (ok) byPrincipal.inc({ principal: principalLabel(principal), action: 'revealed' }, ok);
    },
    /** A reveal refused by the budget: counted by tokens asked for. */
    refused(namespace: string, tokens: number, err: unknown): void {
      if ((err as AppError | undefined)?.code === 'REVEAL_BUDGET_EXCEEDED') reveals.inc({ namespace, outcome: 'budget' }, tokens);
    },
    erased(method: string, tokens: number): void {
      erasures.inc({ method });
      erased.inc(tokens);
    },
    /** Gauges read when Prometheus scrapes: the cache's counters, the erasure feed head, the pool. */
    watch(deps: { cache: TokenCache; feedHead: () => Promise<number>; pool?: pg.Pool | undefined }): void {
      let seen = { hits: 0, misses: 0 };
      const cacheCounter = new Counter({
        name: 'tokenvault_token_cache_lookups_total',
        help: 'Token cache lookups by result (hit, miss), this instance',
        labelNames: ['result'],
        registers,
        collect() {
          const { hits, misses } = deps.cache.stats();
          this.inc({ result: 'hit' }, hits - seen.hits);
          this.inc({ result: 'miss' }, misses - seen.misses);
          seen = { hits, misses };
        },
      });
      cacheCounter.inc({ result: 'hit' }, 0);
      new Gauge({
        name: 'tokenvault_erasure_feed_head',
        help: "Sequence number of the newest erasure in the feed (compare with consumers' cursors)",
        registers,
        async collect() {
          // A scrape must not fail because the database is away: NaN says "unknown".
          this.set(await deps.feedHead().catch(() => Number.NaN));
        },
      });
      const pool = deps.pool;
      if (!pool) return;
      new Gauge({
        name: 'tokenvault_db_pool_connections_in_use',
        help: "PostgreSQL connections checked out of this instance's pool",
        registers,
        collect() {
          this.set(pool.totalCount - pool.idleCount);
        },
      });
      new Gauge({
        name: 'tokenvault_db_pool_waiting',
        help: "Queries waiting for a connection of this instance's pool",
        registers,
        collect() {
          this.set(pool.waitingCount);
        },
      });
    },
  };
}

export type VaultMetrics = ReturnType<typeof createVaultMetrics>;

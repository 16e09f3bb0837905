import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/client.js';
import { backlog } from './audit-log.js';
import type { Sealer } from './sealer.js';

/** Readiness fails once the oldest unsealed row is this many bounds old: well past a failover. */
export const AUDIT_READY_FACTOR = 10;

export type AuditBacklog = { rows: number; oldestSeconds: number };

/** The backlog, read at most once per scrape or probe burst (the gauges share one query). */
export function createBacklogProbe(db: Db, now: () => number = Date.now) {
  let cached: { at: number; value: Promise<AuditBacklog> } | undefined;
  return (): Promise<AuditBacklog> => {
    const t = now();
    if (!cached || t - cached.at > 250) {
      const value = backlog(db).then((b) => ({ rows: b.rows, oldestSeconds: b.oldest ? Math.max(0, (t - b.oldest.getTime()) / 1000) : 0 }));
      cached = { at: t, value };
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}

/** Prometheus gauges of the audit backlog (shared by every instance) and of this instance's role. */
export function registerAuditMetrics(registry: Registry, deps: { probe: () => Promise<AuditBacklog>; sealer: Sealer }): void {
  new Gauge({
    name: 'tokenvault_audit_unsealed_rows',
    help: 'Committed audit rows not yet sealed (all instances)',
    registers: [registry],
    async collect() {
      this.set((await deps.probe()).rows);
    },
  });
  new Gauge({
    name: 'tokenvault_audit_unsealed_oldest_seconds',
    help: 'Age of the oldest committed audit row not yet sealed (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await deps.probe()).oldestSeconds);
    },
  });
  new Gauge({
    name: 'tokenvault_audit_sealer',
    help: '1 while this instance is the elected audit sealer',
    registers: [registry],
    collect() {
      this.set(deps.sealer.isSealer() ? 1 : 0);
    },
  });
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bearer, useTestVault } from '../helpers/vault.js';

const ctx = useTestVault();
const read = (f: string) => readFileSync(new URL(`../../docs/monitoring/${f}`, import.meta.url), 'utf8');
const metricNames = (text: string) =>
  new Set([...text.matchAll(/\btokenvault_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));

describe('docs/monitoring', () => {
  it('the alert rules and the dashboard name only metrics the vault exports', async () => {
    // One request of each kind, so every labelled series exists.
    await ctx.v.app.inject({
      method: 'POST',
      url: '/v1/tokenize',
      headers: bearer(ctx.v.token('tokenize')),
      payload: { items: [{ type: 'email', value: 'mon@example.com' }] },
    });
    await ctx.v.app.inject({
      method: 'POST',
      url: '/v1/detokenize',
      headers: bearer(ctx.v.token('detokenize:plain:*')),
      payload: { tokens: ['x'], purpose: 'TICKET-1' },
    });
    await ctx.v.app.inject({ method: 'POST', url: '/v1/erasures', headers: bearer(ctx.v.token('erase')), payload: { tokens: ['x'] } });
    const exported = (await ctx.v.app.inject('/metrics')).body;
    const known = new Set([...exported.matchAll(/^# TYPE (tokenvault_[a-z_]+)/gm)].map((m) => m[1]!));
    const rules = parse(read('alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const dashboard = JSON.parse(read('grafana-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
    const used = metricNames(
      [...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))].join(
        '\n',
      ),
    );
    // Pool gauges exist only on PostgreSQL (PGlite has no pool).
    const missing = [...used].filter((n) => !known.has(n) && !n.startsWith('tokenvault_db_pool_'));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(8);
  });
});

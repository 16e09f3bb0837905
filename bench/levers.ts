/**
 * `npm run bench -- --levers`: what each per-request piece of the HTTP stack costs, measured
 * rather than assumed. The vault at its default log level (info) against the same build at warn,
 * and the bare echo with the vault's per-request pieces added one at a time (info logging, the
 * rate-limit store, the metrics hook). One value per request, 32 connections, alternating.
 */
import { load, type LoadResult, type Server } from './lib/measure.js';

interface LeverRun {
  vault: number;
  ceiling: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUs: number;
  ceilingCpuUs: number;
  notes: string;
}
type ScenarioFn = (name: string, unit: string, runOnce: (run: number) => Promise<LeverRun>, meta: { ceilingName: string }) => Promise<void>;

export async function leverScenarios(o: {
  scenario: ScenarioFn;
  start: (script: string, env?: Record<string, string>) => Promise<Server>;
  startVault: (env?: Record<string, string>) => Promise<Server>;
  vault: Server;
  bare: Server;
  headers: Record<string, string>;
  body: (items: number) => string;
  seconds: number;
  amount: number;
  vaultPids: Set<number>;
  /** Whether --only selects a scenario of this name. */
  wanted: (name: string) => boolean;
}) {
  const compare = (a: LoadResult, b: LoadResult, what: string): LeverRun => ({
    vault: a.rps,
    ceiling: b.rps,
    p50: a.p50,
    p99: a.p99,
    errors: a.errors + b.errors,
    cpuUs: a.cpuUs,
    ceilingCpuUs: b.cpuUs,
    notes: `${what}: ${Math.round(a.cpuUs - b.cpuUs)} µs/request of CPU (${Math.round(a.cpuUs)} against ${Math.round(b.cpuUs)}), ${a.logLinesPerRequest.toFixed(2)} against ${b.logLinesPerRequest.toFixed(2)} log lines/request`,
  });
  const bodies = () => Array.from({ length: o.amount }, () => o.body(1));

  const logLevel = 'lever: vault at the default log level (info) against warn, one new value per request, 32 conn';
  if (o.wanted(logLevel)) {
    const warn = await o.startVault({ LOG_LEVEL: 'warn' });
    o.vaultPids.add(warn.child.pid!);
    await load(warn, '/v1/tokenize', bodies(), { connections: 32, amount: Math.min(o.amount, 5000), headers: o.headers });
    await o.scenario(
      logLevel,
      'req/s',
      async (run) => {
        // Alternating which goes first, so neither always meets the table a little larger.
        const pair = run % 2 ? [warn, o.vault] : [o.vault, warn];
        const r = new Map<Server, LoadResult>();
        for (const s of pair) r.set(s, await load(s, '/v1/tokenize', bodies(), { connections: 32, amount: o.amount, headers: o.headers }));
        return compare(r.get(o.vault)!, r.get(warn)!, 'info costs');
      },
      { ceilingName: 'the vault at warn' },
    );
    o.vaultPids.delete(warn.child.pid!);
    await warn.stop();
  }

  const single = Array.from({ length: 5000 }, () => o.body(1));
  // The logger at warn writes no request lines but still makes a child logger per request: the
  // pair splits the logger's fixed cost from the two lines' cost.
  for (const [withs, level] of [
    ['log', 'warn'],
    ['log', 'info'],
    ['rate-limit', ''],
    ['metrics', ''],
    ['log,rate-limit,metrics', 'info'],
  ] as const) {
    const name = `lever: bare echo + ${withs.replaceAll(',', ' + ')}${level ? ` (${level})` : ''}, 32 conn`;
    if (!o.wanted(name)) continue;
    const echo = await o.start('bench/echo-bare.ts', { BENCH_ECHO_WITH: withs, LOG_LEVEL: level || 'info' });
    // Warmed first, untimed: a fresh process's first run is JIT compilation, not the lever.
    await load(echo, '/echo', single, { connections: 32, duration: 1, headers: o.headers });
    await o.scenario(
      name,
      'req/s',
      async (run) => {
        const pair = run % 2 ? [o.bare, echo] : [echo, o.bare];
        const r = new Map<Server, LoadResult>();
        for (const s of pair) r.set(s, await load(s, '/echo', single, { connections: 32, duration: o.seconds, headers: o.headers }));
        return compare(r.get(echo)!, r.get(o.bare)!, `${withs} costs`);
      },
      { ceilingName: 'bare echo' },
    );
    await echo.stop();
  }
}

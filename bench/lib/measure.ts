/**
 * Processes under test and what is measured around them: start and readiness, RSS and CPU from
 * /proc, closed-loop load with autocannon, latency percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import autocannon from 'autocannon';
import { freePort, ROOT } from '../../test/helpers/process.js';

export interface Server {
  url: string;
  child: ChildProcess;
  /** Lines the process has written to stdout so far (its log, at the level it runs at). */
  logLines(): number;
  stop(): Promise<void>;
}

/**
 * Starts a server process and waits for its /readyz. Its stdout is read and counted, as a
 * container runtime would read it: a log line costs the writer a system call either way.
 */
export async function startProcess(script: string, o: { nodeArgs?: string[]; env: Record<string, string> }): Promise<Server> {
  const port = await freePort();
  const args = [...(o.nodeArgs ?? []), ...(script.endsWith('.ts') ? ['--import', 'tsx', script] : [script])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...o.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let lines = 0;
  child.stdout!.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, child, logLines: () => lines, stop };
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${script} did not become ready`);
}

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  return cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

function cpuOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the host's cores have been busy (all but idle and iowait), from /proc/stat. */
function hostBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/**
 * CPU seconds used so far by PostgreSQL's processes on this host. A backend that exits inside a
 * window takes its CPU with it, so a window where connections close can read low.
 */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes(' (postgres) ')) total += cpuOfStat(stat);
    } catch {
      /* exited meanwhile */
    }
  }
  return total;
}

/**
 * Where the CPU went over a window of `units` (requests, batches or queries): PostgreSQL's CPU per
 * unit, and how many of the host's cores were busy on average (everything: the load generator,
 * the server under test, PostgreSQL, and any neighbour).
 */
export function cpuWindow() {
  const host0 = hostBusySeconds();
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  return (units: number) => ({
    pgUs: Math.max(0, ((postgresCpuSeconds() - pg0) * 1e6) / Math.max(1, units)),
    hostCores: (hostBusySeconds() - host0) / ((performance.now() - t0) / 1000),
  });
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  seconds: number;
  cpuUs: number;
  pgUs: number;
  hostCores: number;
  logLinesPerRequest: number;
}

/**
 * Closed-loop load on a server (autocannon, bodies cycled in order); its CPU time per request (all
 * threads) is cpuUs. `onBody` sees each response body (for counts such as `created`).
 */
export async function load(
  server: Server,
  path: string,
  bodies: string[],
  o: { connections: number; amount?: number; duration?: number; headers: Record<string, string>; onBody?: (body: string) => void },
): Promise<LoadResult> {
  let i = 0;
  const pid = server.child.pid!;
  const cpu0 = cpuSeconds(pid);
  const lines0 = server.logLines();
  const cpu = cpuWindow();
  // autocannon reports its result on a 1-second tick, so its own duration is rounded up to whole
  // seconds for runs of a fixed amount: those are timed from the first request to the last response.
  const t0 = performance.now();
  let lastResponse = t0;
  const r = await autocannon({
    url: `${server.url}${path}`,
    connections: o.amount ? Math.min(o.connections, o.amount) : o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.duration ?? 5 }),
    requests: [
      {
        method: 'POST',
        headers: o.headers,
        setupRequest: (req: autocannon.Request) => ({ ...req, body: bodies[i++ % bodies.length]! }),
        onResponse: (_status: number, body: string) => {
          lastResponse = performance.now();
          o.onBody?.(body);
        },
      },
    ],
  });
  const seconds = o.amount ? (lastResponse - t0) / 1000 : r.duration;
  const total = Math.max(1, r.requests.total);
  return {
    rps: r.requests.total / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    requests: r.requests.total,
    seconds,
    cpuUs: ((cpuSeconds(pid) - cpu0) * 1e6) / total,
    logLinesPerRequest: (server.logLines() - lines0) / total,
    ...cpu(total),
  };
}

/**
 * One POST over a keep-alive agent, resolving with the status and body: the client of the
 * one-at-a-time scenarios (fetch cost ~0.5–1 ms more per request at p50 here).
 */
export function post(
  agent: http.Agent,
  url: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .request(
        { agent, hostname, port, path, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: text })).on('error', reject);
        },
      )
      .on('error', reject)
      .end(body);
  });
}

/** The p-th quantile of latencies in ms, to 0.1 ms. */
export function percentile(lat: number[], p: number): number {
  const sorted = [...lat].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 10) / 10;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

type Fault = { kind: '503'; retryAfter?: string } | { kind: 'reset' };

/**
 * An HTTP proxy in front of a real vault that answers the next requests with a fault (503 with
 * Retry-After, or a connection reset) and forwards the rest: a vault that is draining or restarting,
 * as a client sees it. It records every request's path and how many were in flight at once.
 */
export async function startFaultProxy(target: string) {
  const faults: Fault[] = [];
  const seen: { method: string; path: string; fault?: Fault['kind'] }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fault = req.url?.startsWith('/v1/auth/') ? undefined : faults.shift();
    seen.push({ method: req.method ?? '', path: req.url ?? '', fault: fault?.kind });
    if (fault?.kind === 'reset') return req.socket.destroy();
    if (fault?.kind === '503') {
      res.writeHead(503, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
      return res.end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'draining' }, requestId: 'proxy' }));
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      ) as Record<string, string>;
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) out[k] = v;
      });
      res.writeHead(upstream.status, out).end(body);
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    /** Queue faults for the next non-auth requests, in order. */
    fail: (...f: Fault[]) => faults.push(...f),
    seen,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import type pg from 'pg';

/** What a 503 DATABASE_UNAVAILABLE tells the caller to wait before retrying. */
export const RETRY_AFTER_SECONDS = 2;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * SQLSTATEs that mean "this database cannot serve us right now", not "this request is wrong".
 * Class 08 (connection exceptions) is matched by prefix. The reasons are fixed words: the driver's
 * own message can quote names and parameters, and readiness is unauthenticated.
 */
const UNAVAILABLE_STATES: Record<string, string> = {
  '57P01': 'the server terminated the connection (57P01 admin_shutdown)',
  '57P02': 'the server crashed (57P02 crash_shutdown)',
  '57P03': 'the server is starting or shutting down (57P03 cannot_connect_now)',
  '57P04': 'the database was dropped (57P04)',
  '57P05': 'the server ended an idle session (57P05)',
  '57014': 'a statement was cancelled or timed out (57014)',
  '53300': 'too many connections (53300)',
  '3D000': 'the database does not exist (3D000)',
  '28000': 'authentication failed (28000)',
  '28P01': 'authentication failed (28P01)',
};

const SOCKET_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
};

const DRIVER_MESSAGES: [RegExp, string][] = [
  [/is not currently accepting connections/, 'the database is not accepting connections (55000)'],
  [/timeout exceeded when trying to connect/i, 'timed out connecting (pool timeout)'],
  [/Connection terminated/i, 'the connection was terminated'],
  [/Client has encountered a connection error|not queryable/i, 'the connection was lost'],
  [/Query read timeout/i, 'a query timed out'],
];

/** Raised instead of connecting while the database is known to be down (between retries). */
export class DatabaseUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`database unavailable: ${reason}`);
    this.name = 'DatabaseUnavailableError';
  }
}

function* chain(err: unknown): Generator<{ code?: unknown; message?: unknown; reason?: unknown }> {
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 6; e = (e as { cause?: unknown }).cause, i++) yield e as object;
}

/** Why the database is unusable, in fixed words safe to show; undefined when `err` is something else. */
export function unavailableReason(err: unknown): string | undefined {
  for (const e of chain(err)) {
    if (e instanceof DatabaseUnavailableError) return e.reason;
    const code = typeof e.code === 'string' ? e.code : '';
    if (/^08[0-9A-Z]{3}$/.test(code)) return `connection failure (${code})`;
    if (UNAVAILABLE_STATES[code]) return UNAVAILABLE_STATES[code];
    if (SOCKET_CODES[code]) return SOCKET_CODES[code];
    const message = String(e.message ?? '');
    for (const [pattern, reason] of DRIVER_MESSAGES) if (pattern.test(message)) return reason;
  }
  return undefined;
}

export const isUnavailable = (err: unknown): boolean => unavailableReason(err) !== undefined;

/**
 * A circuit breaker on the pool's connect: once a new connection fails for an availability reason,
 * requests fail fast (503) instead of each waiting on a connect of its own — a restarting server is
 * not stormed by every queued request — and one connect is let through after a backoff that doubles
 * up to MAX_BACKOFF_MS. The first one that succeeds closes the breaker. Backends terminated while
 * new connections still succeed (pg_terminate_backend, a pooler) never open it.
 */
export function guardPool(pool: pg.Pool, onChange?: (reason: string | undefined) => void): void {
  let down: { reason: string; backoffMs: number; retryAt: number; probing: boolean } | undefined;
  const connect = pool.connect.bind(pool) as (
    cb: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void,
  ) => void;

  function settled(err: Error | undefined): void {
    const reason = err ? unavailableReason(err) : undefined;
    if (reason) {
      const backoffMs = down ? Math.min(down.backoffMs * 2, MAX_BACKOFF_MS) : MIN_BACKOFF_MS;
      if (!down) onChange?.(reason);
      down = { reason, backoffMs, retryAt: Date.now() + backoffMs, probing: false };
    } else if (!err && down) {
      down = undefined;
      onChange?.(undefined);
    } else if (down) down.probing = false;
  }

  function guarded(cb: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void): void {
    // An idle connection is no new connect: it may still work (a role at its connection limit
    // refuses new ones only), and if it is dead the pool drops it.
    const fresh = pool.idleCount === 0;
    if (fresh && down && (down.probing || Date.now() < down.retryAt)) {
      const refusal = new DatabaseUnavailableError(down.reason);
      setImmediate(() => cb(refusal));
      return;
    }
    if (fresh && down) down.probing = true;
    connect((err, client, done) => {
      if (fresh) settled(err);
      cb(err, client, done);
    });
  }

  // pg-pool's query() calls this.connect(cb); transactions call connect() for a promise.
  (pool as unknown as { connect: unknown }).connect = (cb?: Parameters<typeof guarded>[0]) => {
    if (cb) return guarded(cb);
    return new Promise<pg.PoolClient>((resolve, reject) => guarded((err, client) => (err ? reject(err) : resolve(client!))));
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { VaultUnavailableError } from './errors.js';

export interface RetryOptions {
  /** Stop retrying once this much time has passed since the first attempt (default 60 s). */
  timeoutMs?: number;
  /** First backoff step (default 100 ms); doubles each attempt, with full jitter. */
  baseMs?: number;
  /** Largest backoff step (default 5 s). A longer `Retry-After` is still honoured. */
  maxMs?: number;
}

export interface RetryEvent {
  attempt: number;
  /** HTTP status that caused the retry, or undefined for a network error. */
  status?: number;
  delayMs: number;
}

/** 429: a limit or budget says "later"; 503: the vault is starting, draining or lost its database. */
const RETRY_STATUSES = new Set([429, 503]);

/** Seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  if (/^[0-9]+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface Transport {
  (request: Request): Promise<Response>;
}

/**
 * A fetch for openapi-fetch that retries 429/503 and network errors until `timeoutMs`, with
 * jittered exponential backoff (so many pipeline workers do not retry in lock-step) and never
 * sooner than the vault's `Retry-After`. Bodies are read inside the retry loop, so a connection
 * cut mid-response (a vault restart) is retried too. A retried tokenize is safe in a consistent
 * namespace (same value, same token); see the README on `consistent: false` namespaces.
 */
export function retryingTransport(opts: {
  fetch?: typeof globalThis.fetch;
  retry?: RetryOptions;
  onRetry?: (e: RetryEvent) => void;
  /** Sets the Authorization header per attempt; `stale` is true after a 401 (token revoked or expired early). */
  authorize?: (stale: boolean) => Promise<string>;
}): Transport {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.retry?.timeoutMs ?? 60_000;
  const baseMs = opts.retry?.baseMs ?? 100;
  const maxMs = opts.retry?.maxMs ?? 5_000;

  return async (request) => {
    const deadline = Date.now() + timeoutMs;
    let refreshed = false;
    let stale = false;
    for (let attempt = 1; ; attempt++) {
      const req = request.clone();
      if (opts.authorize) req.headers.set('authorization', `Bearer ${await opts.authorize(stale)}`);
      let res: Response | undefined;
      let cause: unknown;
      try {
        const r = await doFetch(req);
        res = new Response(r.status === 204 ? null : await r.arrayBuffer(), {
          status: r.status,
          statusText: r.statusText,
          headers: r.headers,
        });
      } catch (err) {
        if (request.signal.aborted) throw err;
        cause = err;
      }
      if (res?.status === 401 && opts.authorize && !refreshed) {
        refreshed = stale = true;
        continue;
      }
      if (res && !RETRY_STATUSES.has(res.status)) return res;
      const backoff = Math.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      const hinted = res ? retryAfterMs(res.headers.get('retry-after')) : undefined;
      const delayMs = hinted === undefined ? backoff : hinted + Math.random() * baseMs;
      if (Date.now() + delayMs > deadline) {
        if (res) return res;
        throw new VaultUnavailableError(`the vault was unreachable for ${Math.round(timeoutMs / 1000)} s (${attempt} attempts)`, { cause });
      }
      opts.onRetry?.({ attempt, status: res?.status, delayMs });
      await sleep(delayMs, undefined, { signal: request.signal });
    }
  };
}

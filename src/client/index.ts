/**
 * `tokenvault/client`: a typed client for the vault's HTTP API. Types come from the OpenAPI
 * document (openapi-typescript, `npm run client:types`); requests go through openapi-fetch. This
 * module adds only what a pipeline needs around them: client-credentials tokens refreshed before
 * they expire, retries that honour `Retry-After`, a concurrency limit, and typed errors.
 */
import createFetchClient, { type Client } from 'openapi-fetch';
import pLimit from 'p-limit';
import { toApiError, VaultAuthError } from './errors.js';
import type { components, operations, paths } from './openapi-types.js';
import { retryingTransport, type RetryEvent, type RetryOptions } from './transport.js';

export { VaultApiError, VaultAuthError, VaultClientError, VaultUnavailableError } from './errors.js';
export type { RetryEvent, RetryOptions } from './transport.js';
export type { components, operations, paths } from './openapi-types.js';

type Json<Op extends keyof operations, Status extends number> = operations[Op] extends {
  responses: { [S in Status]: { content: { 'application/json': infer B } } };
}
  ? B
  : never;
type Body<Op extends keyof operations> = operations[Op] extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

export type TokenizeRequest = Body<'tokenize'>;
export type TokenizeResponse = Json<'tokenize', 200>;
export type DetokenizeRequest = Body<'detokenize'>;
export type DetokenizeResponse = Json<'detokenize', 200>;
export type ErasureFeedQuery = NonNullable<operations['erasureFeed']['parameters']['query']>;
export type ErasureFeedResponse = Json<'erasureFeed', 200>;
export type TokenType = TokenizeRequest['items'][number]['type'];
export type ErrorBody = components['schemas']['ErrorBody'];

export interface ClientOptions {
  /** The vault's base URL, e.g. http://localhost:8080 */
  url: string;
  /** Client credentials (`tokenvault clients create`), exchanged at /v1/auth/token. */
  clientId?: string;
  clientSecret?: string;
  /** Narrow the grant to these space-separated scopes. */
  scope?: string;
  /**
   * Or a bearer token from elsewhere (an IdP): a string, or a function called before each request;
   * `stale` is true after the vault answered 401 to the last one (fetch a new token then).
   */
  token?: string | ((stale: boolean) => Promise<string>);
  /** Requests in flight at once (default 4: a vault on 2 cores gains nothing from more). */
  concurrency?: number;
  retry?: RetryOptions;
  onRetry?: (e: RetryEvent) => void;
  fetch?: typeof globalThis.fetch;
}

export interface VaultClient {
  /** The openapi-fetch client with auth, retries and the concurrency limit: every operation, typed. */
  api: Client<paths>;
  tokenize(body: TokenizeRequest, init?: { signal?: AbortSignal }): Promise<TokenizeResponse>;
  detokenize(body: DetokenizeRequest, init?: { signal?: AbortSignal }): Promise<DetokenizeResponse>;
  erasureFeed(query: ErasureFeedQuery, init?: { signal?: AbortSignal }): Promise<ErasureFeedResponse>;
}

/** Refresh when less than this share of the token's lifetime is left (and at least 5 s). */
const REFRESH_SHARE = 0.2;

function clientCredentials(opts: ClientOptions): (stale: boolean) => Promise<string> {
  if (typeof opts.token === 'string') {
    const token = opts.token;
    return async () => token;
  }
  if (opts.token) return opts.token;
  const { clientId, clientSecret } = opts;
  if (!clientId || !clientSecret) throw new TypeError('createClient needs clientId and clientSecret, or token');
  // The token endpoint goes through retries but not the concurrency limit: a slot held by a call
  // that waits for a token must not block the token request itself.
  const auth = createFetchClient<paths>({
    baseUrl: opts.url,
    fetch: retryingTransport({ fetch: opts.fetch, retry: opts.retry, onRetry: opts.onRetry }),
  });
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const { data, error, response } = await auth.POST('/v1/auth/token', {
      body: {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        ...(opts.scope ? { scope: opts.scope } : {}),
      },
    });
    if (!data) {
      const e = (error ?? {}) as { error?: unknown; error_description?: unknown };
      if (typeof e.error === 'string') throw new VaultAuthError(response.status, e.error, String(e.error_description ?? ''));
      throw toApiError(error, response);
    }
    current = {
      token: data.access_token,
      refreshAt: Date.now() + Math.min(data.expires_in * (1 - REFRESH_SHARE), data.expires_in - 5) * 1000,
    };
    return data.access_token;
  };
  return (stale) => {
    if (current && !stale && Date.now() < current.refreshAt) return Promise.resolve(current.token);
    // One token request for all callers that need one at the same moment.
    pending ??= fetchToken().finally(() => (pending = undefined));
    return pending;
  };
}

export function createClient(opts: ClientOptions): VaultClient {
  const limit = pLimit(opts.concurrency ?? 4);
  const send = retryingTransport({ fetch: opts.fetch, retry: opts.retry, onRetry: opts.onRetry, authorize: clientCredentials(opts) });
  const api = createFetchClient<paths>({ baseUrl: opts.url, fetch: (request) => limit(() => send(request)) });

  async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
    const { data, error, response } = await call;
    if (data === undefined) throw toApiError(error, response);
    return data;
  }

  return {
    api,
    tokenize: (body, init) => unwrap(api.POST('/v1/tokenize', { body, signal: init?.signal })),
    detokenize: (body, init) => unwrap(api.POST('/v1/detokenize', { body, signal: init?.signal })),
    erasureFeed: (query, init) => unwrap(api.GET('/v1/erasures', { params: { query }, signal: init?.signal })),
  };
}

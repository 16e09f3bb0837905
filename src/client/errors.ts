/**
 * Typed errors of the vault client. Each carries a stable `code` a caller can switch on; none
 * carries a value that was sent (messages come from the vault, which never echoes plaintext).
 */
export class VaultClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The vault answered with its error shape (SPEC §3): `{ error: { code, message, items? }, requestId }`. */
export class VaultApiError extends VaultClientError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly items: { index: number; code: string; message: string }[] = [],
  ) {
    super(code, `${status} ${code}: ${message}`);
  }
}

/** The token endpoint refused the client credentials (RFC 6749 §5.2 error, e.g. `invalid_client`). */
export class VaultAuthError extends VaultClientError {
  constructor(
    readonly status: number,
    readonly oauthError: string,
    description: string,
  ) {
    super('AUTHENTICATION_FAILED', `${status} ${oauthError}: ${description}`);
  }
}

/** The vault could not be reached (network errors) until the retry window closed. */
export class VaultUnavailableError extends VaultClientError {
  constructor(message: string, options?: ErrorOptions) {
    super('VAULT_UNAVAILABLE', message, options);
  }
}

interface ErrorBodyLike {
  error?: { code?: unknown; message?: unknown; items?: unknown } | string;
  error_description?: unknown;
  requestId?: unknown;
}

/** Turns an openapi-fetch `{ error, response }` into a typed error. */
export function toApiError(body: unknown, response: Response): VaultApiError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as ErrorBodyLike;
  const e = typeof b.error === 'object' && b.error !== null ? b.error : {};
  const code = typeof e.code === 'string' ? e.code : typeof b.error === 'string' ? b.error : `HTTP_${response.status}`;
  const message =
    typeof e.message === 'string' ? e.message : typeof b.error_description === 'string' ? b.error_description : response.statusText;
  const items = Array.isArray(e.items) ? (e.items as { index: number; code: string; message: string }[]) : [];
  return new VaultApiError(response.status, code, message, typeof b.requestId === 'string' ? b.requestId : undefined, items);
}

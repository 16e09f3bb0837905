/**
 * The error vocabulary. Every error the vault throws on purpose carries a stable UPPER_SNAKE `code`:
 * AppError (with its HTTP status) for what a caller is told, and the named errors below for what
 * the lower layers report to the vault. crypto/errors.ts holds crypto's one failure
 * (DECRYPTION_FAILED), kept there so crypto/ imports nothing of the app; http-errors.ts is the one
 * handler that turns all of them into the one error body.
 */

/**
 * Every `error.code` the API answers with (documented as an enum in the OpenAPI document; a test
 * checks that no code is thrown that is missing here). Per-item reasons (`items[].code`, skipped
 * results) are the formats' codes, e.g. INVALID_EMAIL, and are not part of this list.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NAMESPACE_NOT_FOUND',
  'NOT_FOUND',
  'TOKEN_SPACE_EXHAUSTED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'REVEAL_BUDGET_EXCEEDED',
  'INTERNAL_ERROR',
  'DECRYPTION_FAILED',
  'DATABASE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'SEPARATION_OF_DUTIES',
  'GRANT_NOT_ALLOWED',
  'AUDIT_ROW_NOT_SEALED',
] as const;

/** What a caller is told: a stable code, an HTTP status, a message safe to show. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra fields for the error body (e.g. per-item problems); never values. */
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const errors = {
  validation: (message: string, details?: Record<string, unknown>) => new AppError(400, 'VALIDATION_FAILED', message, details),
  unauthorized: () => new AppError(401, 'UNAUTHORIZED', 'missing or invalid credentials'),
  forbidden: (message: string) => new AppError(403, 'FORBIDDEN', message),
  namespaceNotFound: () => new AppError(404, 'NAMESPACE_NOT_FOUND', 'unknown namespace'),
  notFound: (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`),
  tokenSpaceExhausted: () =>
    new AppError(409, 'TOKEN_SPACE_EXHAUSTED', 'no free token left for a value after repeated attempts; widen the type options'),
  budgetExceeded: (retryAfterSeconds: number) =>
    new AppError(429, 'REVEAL_BUDGET_EXCEEDED', 'reveal budget exhausted for this window', undefined, {
      'retry-after': String(retryAfterSeconds),
    }),
};

/** A mapping read in this transaction was erased before a row referring to it was written (the repositories' word for SQLSTATE 23503). */
export class MappingErasedError extends Error {
  readonly code = 'MAPPING_ERASED';
  constructor() {
    super('a mapping was erased concurrently');
    this.name = 'MappingErasedError';
  }
}

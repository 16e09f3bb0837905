/**
 * Every `error.code` the API answers with (documented as an enum in the OpenAPI document; a test
 * checks that no code is thrown that is missing here). Per-item reasons (`items[].code`, skipped
 * results) are the formats' codes, e.g. INVALID_EMAIL, and are not part of this list.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED', 'MALFORMED_JSON', 'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NAMESPACE_NOT_FOUND', 'NOT_FOUND',
  'TOKEN_SPACE_EXHAUSTED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'RATE_LIMITED', 'REVEAL_BUDGET_EXCEEDED',
  'INTERNAL_ERROR', 'DECRYPTION_FAILED', 'DATABASE_UNAVAILABLE', 'SHUTTING_DOWN',
] as const;

/** The one error vocabulary: a stable UPPER_SNAKE code, an HTTP status, a message safe to show. */
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
  tokenSpaceExhausted: () => new AppError(409, 'TOKEN_SPACE_EXHAUSTED', 'no free token left for a value after repeated attempts; widen the type options'),
  databaseUnavailable: () => new AppError(503, 'DATABASE_UNAVAILABLE', 'the database is unavailable; retry later'),
  decryptionFailed: () => new AppError(500, 'DECRYPTION_FAILED', 'a stored value could not be decrypted'),
  budgetExceeded: (retryAfterSeconds: number) =>
    new AppError(429, 'REVEAL_BUDGET_EXCEEDED', 'reveal budget exhausted for this window', undefined, { 'retry-after': String(retryAfterSeconds) }),
};

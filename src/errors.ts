import { RETRY_AFTER_SECONDS } from './db/availability.js';

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
  databaseUnavailable: () => new AppError(503, 'DATABASE_UNAVAILABLE', 'the database is unavailable; retry later', undefined, { 'retry-after': String(RETRY_AFTER_SECONDS) }),
  decryptionFailed: () => new AppError(500, 'DECRYPTION_FAILED', 'a stored value could not be decrypted'),
  budgetExceeded: (retryAfterSeconds: number) =>
    new AppError(429, 'REVEAL_BUDGET_EXCEEDED', 'reveal budget exhausted for this window', undefined, { 'retry-after': String(retryAfterSeconds) }),
};

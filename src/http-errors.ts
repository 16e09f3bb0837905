import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DecryptionFailedError } from './crypto/errors.js';
import { UnknownKeyVersionError } from './crypto/keyring.js';
import { RETRY_AFTER_SECONDS } from './db/availability.js';
import { isConnectionError } from './db/client.js';
import { AppError } from './errors.js';

interface Mapped {
  status: number;
  code: string;
  message: string;
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'MALFORMED_JSON', 'request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'MALFORMED_JSON', 'request body is empty'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'PAYLOAD_TOO_LARGE', 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', 'unsupported content type; send application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST', 'content-length does not match the body'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'BAD_REQUEST', 'invalid content type'],
};

/** The one error handler (vocabulary: errors.ts). Turns any error into the one body shape. Third-party messages and SQL never reach the client. */
export function mapError(err: FastifyError | Error): Mapped {
  if (err instanceof AppError)
    return {
      status: err.statusCode,
      code: err.code,
      message: err.message,
      ...(err.details ? { extra: err.details } : {}),
      ...(err.headers ? { headers: err.headers } : {}),
    };
  const fe = err as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    const where = `${fe.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    const prop = first?.params as { additionalProperty?: string; missingProperty?: string } | undefined;
    const suffix = prop?.additionalProperty ? ` (${String(prop.additionalProperty).slice(0, 64)})` : '';
    return { status: 400, code: 'VALIDATION_FAILED', message: `${where} ${first?.message ?? 'is invalid'}${suffix}` };
  }
  if (fe.code && FASTIFY_CODES[fe.code]) {
    const [status, code, message] = FASTIFY_CODES[fe.code]!;
    return { status, code, message };
  }
  // secure-json-parse rejects __proto__ / constructor.prototype keys as a SyntaxError
  if (err instanceof SyntaxError || (fe.statusCode === 400 && /prototype|JSON/i.test(err.message))) {
    return { status: 400, code: 'MALFORMED_JSON', message: 'request body is not valid JSON or contains forbidden keys' };
  }
  if (fe.statusCode === 429)
    return {
      status: 429,
      code: 'RATE_LIMITED',
      message: 'too many requests',
      ...((fe as { headers?: Record<string, string> }).headers ? { headers: (fe as { headers?: Record<string, string> }).headers! } : {}),
    };
  if (err instanceof DecryptionFailedError || err instanceof UnknownKeyVersionError)
    return { status: 500, code: 'DECRYPTION_FAILED', message: 'a stored value could not be decrypted' };
  if (isConnectionError(err))
    return {
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      message: 'the database is unavailable; retry later',
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, code: 'BAD_REQUEST', message: 'bad request' };
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal error' };
}

export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const m = mapError(err);
    if (m.status >= 500) {
      // Log the class and code only: driver messages can quote parameters (values).
      request.log.error({ err: { type: err.name, code: (err as { code?: unknown }).code, stack: err.stack } }, 'request failed');
    } else {
      request.log.info({ code: m.code, status: m.status }, 'request rejected');
    }
    if (m.headers) void reply.headers(m.headers);
    return reply
      .code(m.status)
      .type('application/json')
      .send({ error: { code: m.code, message: m.message, ...(m.extra ?? {}) }, requestId: request.id });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such route' }, requestId: request.id }),
  );
}

import { describe, expect, it } from 'vitest';
import { mapError } from '../../src/http-errors.js';

/** drizzle wraps driver errors: the SQLSTATE or socket code sits on `cause`. */
function wrapped(fields: { code?: string; message?: string }): Error {
  return Object.assign(new Error('Failed query: select 1'), { cause: Object.assign(new Error(fields.message ?? 'driver error'), fields) });
}

describe('database-unavailable conditions map to 503 DATABASE_UNAVAILABLE with Retry-After', () => {
  it.each([
    ['57P01 admin_shutdown', { code: '57P01' }],
    ['57P02 crash_shutdown', { code: '57P02' }],
    ['57P03 cannot_connect_now', { code: '57P03' }],
    ['55000 not accepting connections', { code: '55000', message: 'database "x" is not currently accepting connections' }],
    ['53300 too_many_connections', { code: '53300' }],
    ['3D000 invalid_catalog_name', { code: '3D000' }],
    ['28P01 invalid_password', { code: '28P01' }],
    ['08006 connection_failure', { code: '08006' }],
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }],
    ['ECONNRESET', { code: 'ECONNRESET' }],
    ['ENOTFOUND', { code: 'ENOTFOUND' }],
    ['pool timeout', { message: 'timeout exceeded when trying to connect' }],
    ['connection terminated', { message: 'Connection terminated unexpectedly' }],
  ])('%s', (_name, fields) => {
    expect(mapError(wrapped(fields))).toEqual({
      status: 503,
      code: 'DATABASE_UNAVAILABLE',
      message: 'the database is unavailable; retry later',
      headers: { 'retry-after': '2' },
    });
  });

  it('other 55000 errors and ordinary SQL errors stay 500 INTERNAL_ERROR', () => {
    expect(mapError(wrapped({ code: '55000', message: 'something else' })).status).toBe(500);
    expect(mapError(wrapped({ code: '23505' })).status).toBe(500);
  });
});

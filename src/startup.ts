import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { pgErrorCode, type DbHandle } from './db/client.js';
import { unavailableReason } from './db/availability.js';
import { expectedMigrationCount } from './db/migrate.js';
import { EXIT } from './exit-codes.js';

/** A start-up check that failed: a message naming the cause, and the exit code that goes with it. */
export class StartupError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}

/** Where DATABASE_URL points, without the password. */
function target(databaseUrl: string): { where: string; database: string; user: string } {
  const u = new URL(databaseUrl);
  return {
    where: `${u.hostname}:${u.port || '5432'}`,
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username),
    user: decodeURIComponent(u.username) || 'the default user',
  };
}

/**
 * Tells the cause of a failed first contact in words an operator can act on. The driver's message
 * is not shown as it is: it could carry more of the URL than the host.
 */
export function describeDatabaseError(err: unknown, databaseUrl: string): string {
  const t = target(databaseUrl);
  let code: unknown;
  for (let e: unknown = err, i = 0; e && !code && i < 6; e = (e as { cause?: unknown }).cause, i++) code = (e as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot reach the database at ${t.where}: connection refused (is PostgreSQL running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach the database at ${t.where}: the host name does not resolve`;
    case '3D000':
      return `the database "${t.database}" does not exist on ${t.where}: create it, then run \`tokenvault migrate\``;
    case '28000':
    case '28P01':
      return `the database at ${t.where} refused user "${t.user}": authentication failed or the role does not exist (${code}); check DATABASE_URL's user and password`;
  }
  return `cannot use the database at ${t.where}: ${unavailableReason(err) ?? 'unexpected error'}`;
}

/** Before anything else touches it: can we connect, and does the schema match this build? */
export async function checkDatabase(db: DbHandle, databaseUrl: string): Promise<void> {
  try {
    await db.db.execute(sql`select 1`);
  } catch (err) {
    throw new StartupError(EXIT.databaseUnavailable, describeDatabaseError(err, databaseUrl));
  }
  const expected = expectedMigrationCount();
  let applied = 0;
  try {
    const r = (await db.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)) as unknown as {
      rows: { n: number }[];
    };
    applied = r.rows[0]?.n ?? 0;
  } catch (err) {
    if (pgErrorCode(err) !== '42P01' && pgErrorCode(err) !== '3F000')
      throw new StartupError(EXIT.databaseUnavailable, describeDatabaseError(err, databaseUrl));
  }
  if (applied < expected) {
    throw new StartupError(
      EXIT.migrationsMissing,
      `database migrations are not applied (${applied} of ${expected}) on ${target(databaseUrl).where}/${target(databaseUrl).database}: run \`tokenvault migrate\` (npm run db:migrate) with the owner's credentials first`,
    );
  }
}

/** Fails before migrating or opening anything when HOST:PORT cannot be bound. */
export async function checkPort(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, host, port)));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve()));
  });
}

export function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE')
    return new StartupError(
      EXIT.portUnavailable,
      `port ${port} on ${host} is already in use (another tokenvault?); stop that process or set PORT`,
    );
  if (err.code === 'EACCES')
    return new StartupError(EXIT.portUnavailable, `no permission to listen on ${host}:${port}; use a port above 1023 or set PORT`);
  if (err.code === 'EADDRNOTAVAIL')
    return new StartupError(EXIT.portUnavailable, `cannot listen on ${host}: no such local address; check HOST`);
  return err;
}

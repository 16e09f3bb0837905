import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { sql, type SQL } from 'drizzle-orm';
import pg from 'pg';
import { guardPool } from './availability.js';
import { lockDataDir } from './data-dir-lock.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = PgTransaction<PgQueryResultHKT, typeof schema>;
/** Anything a repository can run SQL on: the database or an open transaction. */
export type Executor = Db | Tx;

export interface DbHandle {
  readonly db: Db;
  readonly kind: 'postgres' | 'pglite';
  /** The node-postgres pool, on PostgreSQL (for work that needs one dedicated connection). */
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

/**
 * int8 as JS numbers on this vault's pools only (ids and counts stay far below 2^53), not process-wide.
 * drizzle's own statements parse through its column types (bigint columns are mode 'number').
 */
const POOL_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * The driver object under each database this module opened (pool or PGlite) and under each
 * connection withConnection holds: kept here rather than read back from drizzle's internals.
 */
const drivers = new WeakMap<Executor, pg.Pool | pg.PoolClient | PGlite>();

export async function rows<T>(ex: Executor, query: SQL): Promise<T[]> {
  const r = (await ex.execute(query)) as unknown as { rows: T[] };
  return r.rows;
}

/** Resolves when the database answers a trivial query. */
export async function ping(ex: Executor): Promise<void> {
  await ex.execute(sql`select 1`);
}

interface DriverClient {
  query(text: string | pg.QueryConfig, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * A hot-path statement sent straight to the driver: on node-postgres as a named prepared statement
 * (parsed and planned once per connection), on PGlite as a plain query. drizzle's SQL builder and
 * the planner on every call were ~5–10% of the CPU of single-value requests. `name` must be unique
 * per statement text. Rows come back as the driver returns them (bytea as Buffer or Uint8Array).
 */
export async function hotQuery<T>(ex: Executor, name: string, text: string, values: unknown[]): Promise<T[]> {
  const client = driverOf(ex);
  const r =
    client instanceof pg.Pool || client instanceof pg.Client
      ? await client.query({ name, text, values })
      : await client.query(text, values);
  return r.rows as T[];
}

/**
 * The driver object `ex` runs on. A transaction's connection (a pooled client, or PGlite's
 * transaction) is known only to drizzle, which keeps it on the transaction's session and offers
 * no public accessor: this one line reads it there, for named prepared statements in transactions.
 */
function driverOf(ex: Executor): DriverClient {
  return (drivers.get(ex) ?? (ex as unknown as { session: { client: DriverClient } }).session.client) as DriverClient;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  poolSize?: number;
  /** An already-open PGlite (tests load a migrated template into one). */
  pglite?: PGlite;
  onPoolError?: (err: Error) => void;
  /** Who holds the embedded data directory, as the lock file names it (e.g. `tokenvault server`). */
  owner?: string;
  /** Told when the database becomes unavailable (with the reason) and when it is back (undefined). */
  onAvailability?: (reason: string | undefined) => void;
}

export async function openDatabase(opts: OpenOptions): Promise<DbHandle> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 4,
      // Fail fast instead of queueing forever when the server is gone.
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: 15_000,
      query_timeout: 20_000,
      application_name: 'tokenvault',
      types: POOL_TYPES,
    });
    // A connection lost while idle (the pool's 'error') or while checked out (the client's own
    // 'error', e.g. `Connection terminated` after a 57P01) must not crash the process: without a
    // listener Node throws it. The pool replaces such clients; guardPool backs off reconnects.
    pool.on('error', (err) => opts.onPoolError?.(err));
    pool.on('connect', (client) => client.on('error', (err) => opts.onPoolError?.(err)));
    guardPool(pool, opts.onAvailability);
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    drivers.set(db, pool);
    return { db, kind: 'postgres', pool, close: () => pool.end() };
  }
  let client = opts.pglite;
  if (!client) {
    if (!opts.dataDir) throw new Error('dataDir is required for the embedded database');
    const dir = `${opts.dataDir}/pglite`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const unlock = lockDataDir(opts.dataDir, opts.owner ?? 'tokenvault');
    try {
      client = await PGlite.create(dir);
    } catch (err) {
      unlock();
      throw err;
    }
    const c = client;
    const db = drizzlePglite(c, { schema }) as unknown as Db;
    drivers.set(db, c);
    return { db, kind: 'pglite', close: () => c.close().finally(unlock) };
  }
  const c = client;
  const db = drizzlePglite(c, { schema }) as unknown as Db;
  drivers.set(db, c);
  return { db, kind: 'pglite', close: () => c.close() };
}

/** The SQLSTATE of a driver error, unwrapping drizzle's wrapper. */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** Connection-level failures: the database is unreachable, not the request wrong. */
export { isUnavailable as isConnectionError } from './availability.js';

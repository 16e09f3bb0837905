import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { rows, type DbHandle } from './client.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

const MIGRATION_LOCK = 7210001;

/** Applies every migration not yet applied; safe when several instances start at once. */
export async function migrate(h: DbHandle): Promise<void> {
  if (!h.pool) {
    await migratePglite(h.db as unknown as PgliteDatabase, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  // drizzle's migrator takes no lock: hold a session lock on one connection around it.
  const client = await h.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migratePg(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

export function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_DIR}/meta/_journal.json`, 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** True when the database has every migration this build ships. */
export async function migrationsCurrent(h: DbHandle): Promise<boolean> {
  try {
    const r = await rows<{ n: number }>(h.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    return (r[0]?.n ?? 0) >= expectedMigrationCount();
  } catch {
    return false;
  }
}

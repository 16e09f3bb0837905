import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase, rows, type DbHandle } from '../../src/db/client.js';
import { expectedMigrationCount, migrate, migrationsCurrent } from '../../src/db/migrate.js';
import { usingPostgres } from '../helpers/db.js';
import { withDatabase } from '../helpers/global-setup.js';

/** Columns, indexes, constraints and triggers of the public schema, in a backend-neutral form. */
async function describeSchema(h: DbHandle) {
  const columns = await rows<Record<string, string>>(
    h.db,
    sql`
    select table_name, column_name, data_type, is_nullable, coalesce(column_default, '') as column_default
    from information_schema.columns where table_schema = 'public' order by 1, 2`,
  );
  const indexes = await rows<Record<string, string>>(
    h.db,
    sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by 1, 2`,
  );
  const triggers = await rows<Record<string, string>>(
    h.db,
    sql`select tgname, tgrelid::regclass::text as tbl from pg_trigger where not tgisinternal order by 1`,
  );
  return { columns, indexes, triggers };
}

async function fromZero(
  backend: 'postgres' | 'pglite',
): Promise<{ schema: Awaited<ReturnType<typeof describeSchema>>; drop: () => Promise<void> }> {
  if (backend === 'pglite') {
    const client = await PGlite.create();
    const h = await openDatabase({ pglite: client });
    expect(await migrationsCurrent(h)).toBe(false);
    await migrate(h);
    await migrate(h); // idempotent
    expect(await migrationsCurrent(h)).toBe(true);
    return { schema: await describeSchema(h), drop: () => client.close() };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const name = `tv_mig_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const h = await openDatabase({ databaseUrl: withDatabase(base, name), poolSize: 3 });
  expect(await migrationsCurrent(h)).toBe(false);
  // Two instances migrating at once: the lock makes one wait for the other.
  await Promise.all([migrate(h), migrate(h)]);
  expect(await migrationsCurrent(h)).toBe(true);
  const schema = await describeSchema(h);
  return {
    schema,
    drop: async () => {
      await h.close();
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    },
  };
}

describe('migrations', () => {
  it('apply from zero on PGlite and create every table with the append-only triggers', async () => {
    const { schema, drop } = await fromZero('pglite');
    const tables = new Set(schema.columns.map((c) => c.table_name));
    expect([...tables].sort()).toEqual([
      'audit_checkpoints',
      'audit_events',
      'audit_seals',
      'clients',
      'data_keys',
      'erasures',
      'mappings',
      'reveal_counters',
      'subject_links',
      'tombstones',
    ]);
    expect(schema.triggers.map((t) => t.tgname)).toEqual([
      'audit_checkpoints_no_truncate',
      'audit_checkpoints_no_update_delete',
      'audit_events_no_truncate',
      'audit_events_no_update_delete',
      'audit_events_xid',
      'audit_seals_no_truncate',
      'audit_seals_no_update_delete',
    ]);
    expect(expectedMigrationCount()).toBeGreaterThanOrEqual(2);
    await drop();
  });

  it.runIf(usingPostgres)('give the same schema on PostgreSQL as on PGlite', async () => {
    const a = await fromZero('pglite');
    const b = await fromZero('postgres');
    expect(b.schema).toEqual(a.schema);
    await a.drop();
    await b.drop();
  });
});

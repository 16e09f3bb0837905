import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type DbHandle } from '../../src/db/client.js';
import { withDatabase } from './global-setup.js';

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

/** A fresh migrated database for one test file: cloned from the run's template. */
export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Opens another handle on the same database (a second vault instance). On PGlite, the same one. */
  open(poolSize?: number): Promise<DbHandle>;
  url?: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(opts: { backend?: 'postgres' | 'pglite' } = {}): Promise<TestDatabase> {
  const backend = opts.backend ?? (usingPostgres ? 'postgres' : 'pglite');
  if (backend === 'postgres') {
    const base = process.env.TEST_DATABASE_URL;
    if (!base) throw new Error('TEST_DATABASE_URL is not set');
    const name = `tv_test_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`create database ${name} template ${inject('pgTemplate')}`));
    const url = withDatabase(base, name);
    const handles: DbHandle[] = [];
    return {
      kind: 'postgres',
      url,
      async open(poolSize = 4) {
        const h = await openDatabase({ databaseUrl: url, poolSize });
        handles.push(h);
        return h;
      },
      async drop() {
        await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
        await admin((c) => c.query(`drop database if exists ${name} with (force)`));
      },
    };
  }
  const dump = new Blob([readFileSync(inject('pgliteTemplate'))]);
  const client = await PGlite.create({ loadDataDir: dump });
  const handle = await openDatabase({ pglite: client });
  return {
    kind: 'pglite',
    open: async () => handle,
    drop: () => client.close(),
  };
}

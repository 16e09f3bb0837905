import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

/**
 * One migrated template per run: a PGlite data-dir dump (a fresh PGlite takes seconds to start,
 * loading a dump about one), and, with TEST_DATABASE_URL, a PostgreSQL template database that each
 * test file clones into a database of its own.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenvault-test-'));
  const pglite = await PGlite.create();
  const h = await openDatabase({ pglite });
  await migrate(h);
  const dump = await pglite.dumpDataDir('none');
  const dumpPath = join(dir, 'template.tar');
  writeFileSync(dumpPath, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();
  project.provide('pgliteTemplate', dumpPath);

  const url = process.env.TEST_DATABASE_URL;
  // Said once, up front: otherwise a run without it shows only unexplained skips.
  if (!url)
    console.log(
      'TEST_DATABASE_URL is not set: the tests that need PostgreSQL (locking, concurrency, several instances, database faults) are skipped. Set it, e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres, to run them.',
    );
  let template: string | undefined;
  if (url) {
    template = `tv_tpl_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${template}`);
    await admin.end();
    const t = await openDatabase({ databaseUrl: withDatabase(url, template), poolSize: 1 });
    await migrate(t);
    await t.close();
  }
  project.provide('pgTemplate', template ?? '');

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (url && template) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`drop database if exists ${template} with (force)`);
      await admin.end();
    }
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplate: string;
  }
}

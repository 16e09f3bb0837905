import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedMigrationCount } from '../../src/db/migrate.js';
import { withDatabase } from '../helpers/global-setup.js';
import { usingPostgres } from '../helpers/db.js';
import { freePort, ROOT, spawnVault, waitReady } from '../helpers/process.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tv-first-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['bin/tokenvault.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the server, expects it to exit before listening; returns the exit code and its output. */
async function startFails(env: Record<string, string>, port?: number) {
  const p = spawnVault({ TOKENVAULT_DATA_DIR: tmp(), ...env }, port ?? (await freePort()));
  const code = await p.exited;
  expect(p.output()).not.toContain('Server listening');
  // The last plain line: JSON log lines come on stdout, a separate pipe whose order against
  // stderr's start-up message is not fixed.
  const plain = p
    .output()
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('{'));
  return { code, output: p.output().trim(), last: plain.at(-1) };
}

// Embedded-database behaviour: run once, in the PGlite pass (the PostgreSQL pass would repeat it).
describe.skipIf(usingPostgres)('the embedded database has one owner at a time', () => {
  it('the CLI refuses, naming the running server, while it holds the data directory; a second server too', async () => {
    const dir = tmp();
    const server = spawnVault({ TOKENVAULT_DATA_DIR: dir }, await freePort());
    try {
      await waitReady(server);
      // Read by people too: pid, command and start time.
      expect(JSON.parse(readFileSync(join(dir, 'tokenvault.lock'), 'utf8'))).toEqual({
        pid: server.child.pid,
        command: 'tokenvault server',
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      const r = cli(['clients', 'create', '--name', 'ingest', '--scopes', 'tokenize'], { TOKENVAULT_DATA_DIR: dir });
      expect(r.stderr).toContain(
        `tokenvault: the embedded database in ${dir} is in use by process ${server.child.pid} (tokenvault server, since `,
      );
      expect(r.stderr).toContain('stop that process first, or use its HTTP API while it runs');
      expect(r.status, r.stderr).toBe(75);
      const second = await startFails({ TOKENVAULT_DATA_DIR: dir });
      expect(second.output).toContain(`is in use by process ${server.child.pid} (tokenvault server`);
      expect(second.code).toBe(75);
      // The running server was not disturbed.
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    // Released on shutdown: the CLI now owns it for its run, and writes.
    const r = cli(['clients', 'create', '--name', 'ingest', '--scopes', 'tokenize'], { TOKENVAULT_DATA_DIR: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'tokenvault.lock'))).toBe(false);
  }, 180_000); // three embedded-database starts, each seconds of wasm on a busy machine

  it('a lock left by a process that is gone (SIGKILL) is stale and taken over', () => {
    const dir = tmp();
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    writeFileSync(
      join(dir, 'tokenvault.lock'),
      JSON.stringify({ pid: gone, command: 'tokenvault server', since: new Date().toISOString() }),
    );
    const r = cli(['migrate'], { TOKENVAULT_DATA_DIR: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'tokenvault.lock'))).toBe(false);
  }, 180_000); // a fresh embedded database, created and migrated
});

describe('start-up names what is wrong and exits with a documented code', () => {
  it('a refused database port: exit 69, the cause named', async () => {
    const port = await freePort();
    const r = await startFails({ DATABASE_URL: `postgres://postgres:secret-pw@127.0.0.1:${port}/tokenvault` });
    expect(r.last, r.output).toBe(
      `tokenvault: cannot reach the database at 127.0.0.1:${port}: connection refused (is PostgreSQL running and listening there?)`,
    );
    expect(r.code).toBe(69);
  });

  it('a policy file with several problems: all listed, one per line, exit 78', async () => {
    const policy = join(tmp(), 'policy.yaml');
    writeFileSync(
      policy,
      'namespaces:\n  analytics:\n    types:\n      card: { keepFirst: 9, luhn: maybe }\n      email: { domain: nowhere }\n',
    );
    const r = await startFails({ TOKENVAULT_POLICY: policy });
    expect(
      r.output.endsWith(
        [
          'tokenvault: invalid policy:',
          '  - namespace analytics, type email: option domain must be one of keep, token',
          '  - namespace analytics, type card: option keepFirst must be one of 0, 6',
          '  - namespace analytics, type card: option luhn must be one of invalid, valid',
        ].join('\n'),
      ),
      r.output,
    ).toBe(true);
    expect(r.code).toBe(78);
  });

  it('a busy port: exit 73 before the database is opened or migrated', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const dir = tmp();
      const p = spawnVault({ TOKENVAULT_DATA_DIR: dir }, port);
      const code = await p.exited;
      // stdout (the logger) and stderr (this line) are two pipes: their order in the output is not fixed.
      expect(p.output().trim().split('\n')).toContain(
        `tokenvault: port ${port} on 127.0.0.1 is already in use (another tokenvault?); stop that process or set PORT`,
      );
      expect(code).toBe(73);
      expect(existsSync(join(dir, 'pglite'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  describe.runIf(usingPostgres)('on PostgreSQL', () => {
    const base = process.env.TEST_DATABASE_URL ?? '';
    const empty = `tv_empty_${randomBytes(5).toString('hex')}`;
    afterAll(async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${empty}`);
      await c.end();
    });

    it('an unknown database: exit 69', async () => {
      const name = `tv_missing_${randomBytes(5).toString('hex')}`;
      const r = await startFails({ DATABASE_URL: withDatabase(base, name) });
      expect(r.last, r.output).toBe(
        `tokenvault: the database "${name}" does not exist on 127.0.0.1:5432: create it, then run \`tokenvault migrate\``,
      );
      expect(r.code).toBe(69);
    });

    it('an unknown role: exit 69', async () => {
      const u = new URL(base);
      u.username = 'tv_nobody';
      const r = await startFails({ DATABASE_URL: u.toString() });
      expect(r.last, r.output).toBe(
        `tokenvault: the database at 127.0.0.1:5432 refused user "tv_nobody": authentication failed or the role does not exist (28000); check DATABASE_URL's user and password`,
      );
      expect(r.code).toBe(69);
    });

    it('migrations not applied: exit 65', async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`create database ${empty}`);
      await c.end();
      const r = await startFails({ DATABASE_URL: withDatabase(base, empty) });
      expect(r.last, r.output).toBe(
        `tokenvault: database migrations are not applied (0 of ${expectedMigrationCount()}) on 127.0.0.1:5432/${empty}: run \`tokenvault migrate\` (npm run db:migrate) with the owner's credentials first`,
      );
      expect(r.code).toBe(65);
    });
  });
});

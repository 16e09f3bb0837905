import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres } from '../helpers/db.js';
import { freePort, ROOT, spawnVault, waitReady } from '../helpers/process.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tv-e2e-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the server process', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ TOKENVAULT_MASTER_KEYS: `1:${Buffer.alloc(16).toString('base64')}` }, 'TOKENVAULT_MASTER_KEYS'],
    [{ NODE_ENV: 'production' }, 'DATABASE_URL is required when NODE_ENV=production'],
  ])('refuses bad configuration %j before listening, naming the variable', async (env, name) => {
    const port = await freePort();
    const p = spawnVault({ TOKENVAULT_DATA_DIR: tmp(), ...env }, port);
    const code = await p.exited;
    expect(code).not.toBe(0);
    expect(p.output()).toContain(name);
    expect(p.output()).not.toContain('Server listening');
  });

  it('starts on the embedded database with generated development keys, then shuts down cleanly', async () => {
    const dir = tmp();
    const p = spawnVault({ TOKENVAULT_DATA_DIR: dir }, await freePort());
    try {
      await waitReady(p, 150_000);
      expect((statSync(join(dir, 'dev-keys.json')).mode & 0o777).toString(8)).toBe('600');
      expect(p.output()).toContain('DEVELOPMENT KEYS');
      const docs = await fetch(`${p.url}/docs/`);
      expect(docs.status).toBe(200);
      const token = execFileSync(process.execPath, ['bin/tokenvault.js', 'dev-token', '--scope', 'tokenize'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', TOKENVAULT_DATA_DIR: dir },
        encoding: 'utf8',
      }).trim();
      const res = await fetch(`${p.url}/v1/tokenize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ type: 'email', value: 'e2e-canary@example.com' }] }),
      });
      expect(res.status).toBe(200);
    } finally {
      expect(await p.stop('SIGTERM')).toBe(0);
    }
    expect(p.output()).not.toContain('e2e-canary');
    expect(p.output()).not.toMatch(/"authorization":"Bearer/);
  }, 180_000); // a fresh embedded database (wasm start, every migration) and a CLI run, on two shared cores

  it.runIf(usingPostgres)('runs on PostgreSQL after `tokenvault migrate`', async () => {
    const db = await createTestDatabase({ backend: 'postgres' });
    // The template is migrated already; migrate again must be a no-op, not an error.
    execFileSync(process.execPath, ['bin/tokenvault.js', 'migrate'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url! },
      encoding: 'utf8',
    });
    const p = spawnVault({ DATABASE_URL: db.url!, TOKENVAULT_DATA_DIR: tmp() }, await freePort());
    try {
      await waitReady(p);
    } finally {
      expect(await p.stop()).toBe(0);
      await db.drop();
    }
  });
});

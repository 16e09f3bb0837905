import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tokenvault.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TOKENVAULT_DATA_DIR: dir },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr.trim() };
}

it.each([
  [['clients'], 'tokenvault: clients create --name <n> --scopes "<scopes>" | list | revoke <id> | rotate-secret <id>'],
  [['keys'], 'tokenvault: keys status | rewrap [--batch N] | rotate-dek --namespace <ns>'],
  [['keys', 'rewrap', '--batch', '0'], 'tokenvault: --batch must be 1 to 10000'],
  [
    ['clients', 'create', '--name', 'x', '--scopes', 'tokenize bogus:scope'],
    "tokenvault: unknown scope(s): bogus:scope; see the README's scope table",
  ],
])('%j prints its usage and exits 2 without opening the database', (args, message) => {
  const r = cli(...args);
  expect(r.stderr).toBe(message);
  expect(r.status).toBe(2);
  expect(existsSync(join(dir, 'pglite'))).toBe(false);
});

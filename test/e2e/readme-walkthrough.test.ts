import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { usingPostgres } from '../helpers/db.js';
import { freePort, ROOT, spawnVault, waitReady } from '../helpers/process.js';

/**
 * The README's walk-through, pasted into bash as a newcomer would: every ```sh block between the
 * walkthrough markers, in order, against a fresh vault on the embedded database. Other sections'
 * examples are not run (they are fragments, not a session).
 */
function walkthroughScript(readme: string): string {
  const m = /<!-- walkthrough:begin -->([\s\S]*?)<!-- walkthrough:end -->/.exec(readme);
  if (!m) throw new Error('README has no walkthrough markers');
  const blocks = [...m[1]!.matchAll(/```sh\n([\s\S]*?)```/g)].map((b) => b[1]!);
  if (blocks.length === 0) throw new Error('no sh blocks between the walkthrough markers');
  return blocks.join('\n');
}

// On the embedded database, as `npm start` runs it: once, in the PGlite pass.
it.skipIf(usingPostgres)(
  'the README walk-through works when pasted into bash, from a token to erasure and audit',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tv-walk-'));
    const vault = spawnVault({ TOKENVAULT_DATA_DIR: dataDir }, await freePort());
    const before = readdirSync(ROOT).sort();
    try {
      await waitReady(vault, 180_000); // a fresh embedded database: wasm start and every migration
      const script = walkthroughScript(readFileSync(join(ROOT, 'README.md'), 'utf8'));
      const r = spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), TOKENVAULT_DATA_DIR: dataDir, VAULT: vault.url },
        encoding: 'utf8',
        timeout: 300_000,
      });
      const out = r.stdout;
      expect(r.status, `${out}\n${r.stderr}`).toBe(0);
      for (const expected of [
        '"type":"email","created":true',
        '"status":"ok","type":"email","value":"alice@example.com","reveal":"plain"',
        '"value":"a****@example.com","reveal":"masked"',
        '"value":"**** **** **** 1111"',
        '"token_type":"Bearer","expires_in":900,"scope":"tokenize"',
        'valid: erasure ',
        '"status":"erased"',
        'erasure success',
        '"ok":true',
      ])
        expect(out, r.stderr).toContain(expected);
      // Nothing was left in the repository (receipts, keys, token files).
      expect(readdirSync(ROOT).sort()).toEqual(before);
    } finally {
      expect(await vault.stop()).toBe(0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
  420_000,
); // an embedded-database start and a dozen npx runs (each loads tsx) on a shared two-core machine

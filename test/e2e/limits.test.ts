import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/db.js';
import { freePort, spawnVault, waitReady, type VaultProcess } from '../helpers/process.js';

let dir: string;
let db: TestDatabase | undefined;
let p: VaultProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tv-limits-'));
  // On PostgreSQL when the run has one (a migrated copy); else the embedded database, which
  // migrates from zero at start: slow on a busy machine.
  db = usingPostgres ? await createTestDatabase({ backend: 'postgres' }) : undefined;
  p = spawnVault({ TOKENVAULT_DATA_DIR: dir, LOG_LEVEL: 'warn', ...(db ? { DATABASE_URL: db.url! } : {}) }, await freePort());
  await waitReady(p, 150_000);
}, 180_000);
afterAll(async () => {
  await p?.stop();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('limits before work, in a real server process (finding 6)', () => {
  it('a 14 MB nested-array JSON body to /v1/auth/token is answered 4xx before a concurrent /healthz times out at 1 s', async () => {
    const body = Buffer.from('['.repeat(7_000_000) + ']'.repeat(7_000_000));
    let answered = false;
    const token = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: p.port,
          method: 'POST',
          path: '/v1/auth/token',
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          answered = true;
          resolve(res.statusCode!);
        },
      );
      // The server may close the connection while the rest of the body is still being sent.
      req.on('error', (err) => (answered ? undefined : reject(err)));
      req.end(body);
    });
    // /healthz again and again until the token request is over: each must answer within 1 s.
    let settled = false;
    const outcome = token.then(
      (status) => status,
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    void outcome.finally(() => (settled = true));
    let healthChecks = 0;
    while (!settled) {
      const res = await fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      expect(res.status).toBe(200);
      healthChecks++;
    }
    // The 413 is sent at once; under load the server may close the socket while the client is
    // still sending the 14 MB, and the client then sees the reset before it reads the response.
    // Either way the body was refused before it was parsed.
    expect([413, 'EPIPE', 'ECONNRESET']).toContain(await outcome);
    expect(healthChecks).toBeGreaterThan(0);
  });
});

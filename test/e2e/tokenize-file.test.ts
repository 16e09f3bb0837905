import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type TokenType } from 'tokenvault/client';
import { createTestDatabase, usingPostgres } from '../helpers/db.js';
import { freePort, ROOT, spawnVault, waitReady, type VaultProcess } from '../helpers/process.js';
import { useTestVault } from '../helpers/vault.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `tokenvault tokenize-file` as a real process; resolves with its exit code, stdout and stderr. */
function runCommand(args: string[], env: Record<string, string>, onStdout?: (chunk: string) => void) {
  const child = spawn(process.execPath, ['bin/tokenvault.js', 'tokenize-file', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), onStdout?.(d)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number, stdout, stderr }));
}

describe('tokenvault tokenize-file', () => {
  const ctx = useTestVault();
  let env: Record<string, string>;
  let api: ReturnType<typeof createClient>;
  const tok = async (type: TokenType, value: string) =>
    JSON.stringify((await api.tokenize({ items: [{ type, value }] })).results[0]!.token);

  beforeAll(async () => {
    const url = await ctx.v.app.listen({ port: 0, host: '127.0.0.1' });
    const { client, secret } = await ctx.v.services.clients.create(
      { name: 'backfill', scopes: ['tokenize'], namespaces: ['default'] },
      'test',
    );
    env = { TOKENVAULT_URL: url, TOKENVAULT_CLIENT_ID: client.id, TOKENVAULT_CLIENT_SECRET: secret };
    api = createClient({ url, clientId: client.id, clientSecret: secret });
    writeFileSync(
      join(dir, 'fields.yaml'),
      [
        'fields:',
        '  user.email: email',
        '  "items[].ip": { type: ipv4, onInvalid: "null" }',
        '  card: { type: card, action: mask }',
        '  debug: { action: drop }',
        '  phone: { type: phone, onInvalid: drop }',
        '',
      ].join('\n'),
    );
  });

  it('replaces only the configured fields, keeps every other byte, reports rejects by line without values (exit 3)', async () => {
    const input = [
      '{ "user" : {"name":"Zo\\u00eb","email":"Mixed@Example.com"},  "n": 1.50e0, "items":[{"ip":"10.0.0.1","x":[1, 2]},{"ip":"999.1.1.1"}], "card":"4111-1111-1111-1111"}',
      '{"debug":{"raw":"secret-debug"},"user":{"email":"dup@example.com","email":"dup2@example.com"},"z":true}\r',
      'not json at all leaked@example.com',
      '',
      '{"user":{"email":"bad-email"},"keep":"me"}',
      '{"phone":"12","user":{"email":"Mixed@Example.com"}}',
      '{"a":1,"debug":2}',
    ].join('\n');
    writeFileSync(join(dir, 'small.jsonl'), input);
    const r = await runCommand(
      ['--fields', join(dir, 'fields.yaml'), '--rejected', join(dir, 'rejected.jsonl'), join(dir, 'small.jsonl')],
      env,
    );
    expect(r.code, r.stderr).toBe(3);
    const mixed = await tok('email', 'mixed@example.com');
    expect(r.stdout).toBe(
      [
        `{ "user" : {"name":"Zo\\u00eb","email":${mixed}},  "n": 1.50e0, "items":[{"ip":${await tok('ipv4', '10.0.0.1')},"x":[1, 2]},{"ip":null}], "card":"**** **** **** 1111"}`,
        `{"user":{"email":${await tok('email', 'dup@example.com')},"email":${await tok('email', 'dup2@example.com')}},"z":true}\r`,
        '',
        '{"a":1}',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toContain('line 3: rejected: (record) INVALID_JSON');
    expect(r.stderr).toContain('line 5: rejected: user.email INVALID_EMAIL');
    expect(r.stderr).toContain('line 6: dropped: phone INVALID_PHONE');
    expect(r.stderr).toMatch(/7 records in .*: 4 written, 2 rejected, 1 dropped, 1 field\(s\) nulled/);
    for (const secret of ['leaked@example.com', 'bad-email', 'Mixed@Example.com', '999.1.1.1']) expect(r.stderr).not.toContain(secret);
    expect(readFileSync(join(dir, 'rejected.jsonl'), 'utf8')).toBe(
      'not json at all leaked@example.com\n{"user":{"email":"bad-email"},"keep":"me"}\n',
    );
    expect((statSync(join(dir, 'rejected.jsonl')).mode & 0o777).toString(8)).toBe('600');
  });

  it('exit 2 on usage errors; exit 1 naming the reason when the credentials are refused', async () => {
    expect((await runCommand([join(dir, 'small.jsonl')], env)).code).toBe(2);
    writeFileSync(join(dir, 'bad-fields.yaml'), 'fields: { user.email: nope }\n');
    const bad = await runCommand(['--fields', join(dir, 'bad-fields.yaml'), join(dir, 'small.jsonl')], env);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([
      2,
      'tokenvault tokenize-file: field "user.email": type must be a token type (email, phone, ipv4, …)',
    ]);
    const refused = await runCommand(['--fields', join(dir, 'fields.yaml'), join(dir, 'small.jsonl')], {
      ...env,
      TOKENVAULT_CLIENT_SECRET: 'wrong',
    });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain('401 invalid_client');
    expect(refused.stdout).toBe('');
  });
});

describe.runIf(usingPostgres)('tokenvault tokenize-file on 200,000 lines', () => {
  const LINES = 200_000;
  const EMAILS = 50_000;
  const IPS = 20_000;
  const email = (i: number) => `user${i % EMAILS}@example.com`;
  const ip = (i: number) => `10.${(i % IPS) >> 8}.${(i % IPS) & 255}.7`;
  // Spacing, escapes and number spellings that JSON.stringify would change: only splicing keeps them.
  const line = (i: number, e: string, a: string) =>
    `{"id":${i}, "user":{"name":"N\\u00e9 ${i}","email":${e}},"ip" : ${a},"amount":1.50,"tags":["x", "y"]}`;

  it("output equals the input but for the configured fields, tokens equal the API's, and a vault restart mid-file loses and duplicates nothing", async () => {
    const db = await createTestDatabase({ backend: 'postgres' });
    const venv = { DATABASE_URL: db.url!, TOKENVAULT_DATA_DIR: mkdtempSync(join(dir, 'data-')), LOG_LEVEL: 'warn' };
    const port = await freePort();
    let vault: VaultProcess = spawnVault(venv, port);
    try {
      await waitReady(vault);
      const created = JSON.parse(
        execFileSync(process.execPath, ['bin/tokenvault.js', 'clients', 'create', '--name', 'backfill', '--scopes', 'tokenize'], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', ...venv },
          encoding: 'utf8',
        }),
      ) as { clientId: string; clientSecret: string };
      const env = { TOKENVAULT_URL: vault.url, TOKENVAULT_CLIENT_ID: created.clientId, TOKENVAULT_CLIENT_SECRET: created.clientSecret };
      const input = join(dir, 'big.jsonl');
      const out = createWriteStream(input);
      for (let i = 0; i < LINES; i++)
        if (!out.write(`${line(i, JSON.stringify(email(i)), JSON.stringify(ip(i)))}\n`)) await once(out, 'drain');
      await new Promise((resolve) => out.end(resolve));
      writeFileSync(join(dir, 'big-fields.yaml'), 'fields:\n  user.email: email\n  ip: ipv4\n');

      // Kill the vault (no graceful drain) once a third of the output is out, and start it again.
      let written = 0;
      let restart: Promise<void> | undefined;
      const started = Date.now();
      const result = await runCommand(['--fields', join(dir, 'big-fields.yaml'), input], env, (chunk) => {
        written += chunk.split('\n').length - 1;
        if (written >= LINES / 3 && !restart) {
          restart = (async () => {
            await vault.stop('SIGKILL');
            vault = spawnVault(venv, port);
            await waitReady(vault);
          })();
        }
      });
      const seconds = (Date.now() - started) / 1000;
      await restart;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`${LINES} records in .*: ${LINES} written, 0 rejected`));
      expect(Number(/(\d+) retried request/.exec(result.stderr)?.[1])).toBeGreaterThan(0);

      // The API's tokens for the same values (all exist by now: nothing is created here).
      const api = createClient({ url: vault.url, ...created });
      const tokens = async (type: TokenType, values: string[]) => {
        const m = new Map<string, string>();
        for (let i = 0; i < values.length; i += 10_000) {
          const batch = values.slice(i, i + 10_000);
          const { results } = await api.tokenize({ items: batch.map((value) => ({ type, value })) });
          results.forEach((r, j) => {
            expect(r.created).toBe(false);
            m.set(batch[j]!, r.token!);
          });
        }
        return m;
      };
      const emailTokens = await tokens(
        'email',
        Array.from({ length: EMAILS }, (_, i) => email(i)),
      );
      const ipTokens = await tokens(
        'ipv4',
        Array.from({ length: IPS }, (_, i) => ip(i)),
      );
      const got = result.stdout.split('\n');
      expect(got.length).toBe(LINES + 1);
      expect(got[LINES]).toBe('');
      const firstMismatch = got
        .slice(0, LINES)
        .findIndex((l, i) => l !== line(i, JSON.stringify(emailTokens.get(email(i))), JSON.stringify(ipTokens.get(ip(i)))));
      expect(firstMismatch, firstMismatch >= 0 ? got[firstMismatch] : '').toBe(-1);
      console.log(
        `tokenize-file: ${LINES} lines with a vault restart in ${seconds.toFixed(1)} s; ${result.stderr.trim().split('\n').pop()}`,
      );
    } finally {
      await vault.stop();
      await db.drop();
    }
  }, 300_000);
});

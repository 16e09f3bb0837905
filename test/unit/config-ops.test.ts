import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, FILE_VARIABLES, loadConfig } from '../../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tv-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string): string {
  const path = join(dir, `secret-${n++}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}
const key = () => randomBytes(32).toString('base64');

/** The problems loadConfig reports for `env` (it must refuse it). */
function problems(env: Record<string, string>): string[] {
  const caught = ((): unknown => {
    try {
      return loadConfig(env);
    } catch (err) {
      return err;
    }
  })();
  expect(caught).toBeInstanceOf(ConfigError);
  return (caught as ConfigError).problems;
}

describe('secrets from files (*_FILE)', () => {
  it('every secret variable has a _FILE form that is read, without its trailing newline', () => {
    const keys = { m: key(), f: key(), j: key(), s: key(), a: key() };
    const c = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL_FILE: file('postgres://app@db:5432/tokenvault\n'),
      TOKENVAULT_DB_PASSWORD_FILE: file('p@ss/w:rd%\n'),
      TOKENVAULT_MASTER_KEYS_FILE: file(`1:${keys.m}\n`),
      TOKENVAULT_FINGERPRINT_KEY_FILE: file(`${keys.f}\n`),
      TOKENVAULT_JWT_SECRET_FILE: file(keys.j),
      TOKENVAULT_SIGNING_KEY_FILE: file(`${keys.s}\n`),
      TOKENVAULT_AUDIT_SIGNING_KEY_FILE: file(`${keys.a}\n`),
    });
    expect(c.keys.masterKeys!.get(1)!.toString('base64')).toBe(keys.m);
    expect(c.keys.fingerprintKey!.toString('base64')).toBe(keys.f);
    expect(c.keys.jwtSecret!.toString('base64')).toBe(keys.j);
    expect(c.keys.signingKey!.toString('base64')).toBe(keys.s);
    expect(c.keys.auditSigningKey!.toString('base64')).toBe(keys.a);
    expect(decodeURIComponent(new URL(c.databaseUrl!).password)).toBe('p@ss/w:rd%');
    expect(FILE_VARIABLES).toEqual([
      'DATABASE_URL',
      'TOKENVAULT_DB_PASSWORD',
      'TOKENVAULT_MASTER_KEYS',
      'TOKENVAULT_FINGERPRINT_KEY',
      'TOKENVAULT_JWT_SECRET',
      'TOKENVAULT_SIGNING_KEY',
      'TOKENVAULT_AUDIT_SIGNING_KEY',
    ]);
  });

  it('a missing file and a variable set twice are named', () => {
    expect(problems({ TOKENVAULT_JWT_SECRET_FILE: join(dir, 'absent') })).toEqual([
      `TOKENVAULT_JWT_SECRET_FILE: cannot read ${join(dir, 'absent')} (ENOENT)`,
    ]);
    expect(problems({ TOKENVAULT_JWT_SECRET: key(), TOKENVAULT_JWT_SECRET_FILE: file(key()) })).toEqual([
      'set TOKENVAULT_JWT_SECRET or TOKENVAULT_JWT_SECRET_FILE, not both',
    ]);
  });

  it('any generated password survives the trip into the connection URL (openssl rand -base64 output has / + =)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }).filter((p) => !p.includes('\n')),
        (password) => {
          const c = loadConfig({ DATABASE_URL: 'postgres://tokenvault@db:5432/tokenvault', TOKENVAULT_DB_PASSWORD: password });
          const u = new URL(c.databaseUrl!);
          expect(decodeURIComponent(u.password)).toBe(password);
          expect([u.hostname, u.port, u.pathname, u.username]).toEqual(['db', '5432', '/tokenvault', 'tokenvault']);
        },
      ),
    );
  });

  it('migrate may run in production without the keys (its container is not given them)', () => {
    expect(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@h/db' }, { requireKeys: false }).production).toBe(true);
  });
});

describe('messages a newcomer can act on', () => {
  it('a short secret that is base64 is "too short", not "must be base64"', () => {
    expect(problems({ TOKENVAULT_JWT_SECRET: 'short' })).toEqual([
      'TOKENVAULT_JWT_SECRET is too short, need at least 32 bytes (got 3; generate one with `openssl rand -base64 32`)',
    ]);
  });

  it('a bad LOG_LEVEL lists the allowed values once', () => {
    expect(problems({ LOG_LEVEL: 'loud' })).toEqual(['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent']);
  });

  it('TOKENVAULT_DOCS=off turns the docs off; anything but on/off is refused', () => {
    expect(loadConfig({}).docs).toBe(true);
    expect(loadConfig({ TOKENVAULT_DOCS: 'off' }).docs).toBe(false);
    expect(problems({ TOKENVAULT_DOCS: 'no' })).toEqual(['TOKENVAULT_DOCS must be on or off']);
  });
});

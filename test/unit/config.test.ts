import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const key = () => randomBytes(32).toString('base64');
const prodKeys = () => ({
  TOKENVAULT_MASTER_KEYS: `1:${key()}`,
  TOKENVAULT_FINGERPRINT_KEY: key(),
  TOKENVAULT_JWT_SECRET: key(),
  TOKENVAULT_SIGNING_KEY: key(),
});

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected ConfigError');
}

describe('config', () => {
  it('has documented defaults and is frozen', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, dataDir: './data', logLevel: 'info', production: false, databaseUrl: undefined });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses versioned master keys; the highest is active', () => {
    const c = loadConfig({ TOKENVAULT_MASTER_KEYS: `1:${key()},3:${key()}` });
    expect([...c.keys.masterKeys!.keys()]).toEqual([1, 3]);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT /],
    [{ PORT: '70000' }, /^PORT must be from 1 to 65535/],
    [{ TOKENVAULT_MASTER_KEYS: `1:${randomBytes(16).toString('base64')}` }, /TOKENVAULT_MASTER_KEYS version 1 must be exactly 32 bytes \(got 16;/],
    [{ TOKENVAULT_MASTER_KEYS: 'abc' }, /TOKENVAULT_MASTER_KEYS must be a list/],
    [{ TOKENVAULT_MASTER_KEYS: `1:${key()},1:${key()}` }, /lists version 1 twice/],
    [{ TOKENVAULT_FINGERPRINT_KEY: 'not base64!!' }, /TOKENVAULT_FINGERPRINT_KEY must be base64/],
    [{ TOKENVAULT_JWT_SECRET: randomBytes(16).toString('base64') }, /TOKENVAULT_JWT_SECRET is too short, need at least 32 bytes/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL /],
    [{ NODE_ENV: 'production', ...prodKeys() }, /DATABASE_URL is required when NODE_ENV=production/],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y' }, /TOKENVAULT_MASTER_KEYS is required when NODE_ENV=production/],
  ])('rejects %j naming the variable', (env, message) => {
    expect(problems(env as Record<string, string>).some((p) => message.test(p))).toBe(true);
  });

  it('accepts a complete production configuration', () => {
    const c = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@h/db', ...prodKeys() });
    expect(c.production).toBe(true);
  });
});

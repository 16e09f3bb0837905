import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_ACCESS, loadConfig, type Config } from '../../src/config.js';

const key = () => randomBytes(32).toString('base64');
const prodKeys = () => ({
  TOKENVAULT_MASTER_KEYS: `1:${key()}`,
  TOKENVAULT_FINGERPRINT_KEY: key(),
  TOKENVAULT_JWT_SECRET: key(),
  TOKENVAULT_SIGNING_KEY: key(),
  TOKENVAULT_AUDIT_SIGNING_KEY: key(),
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
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: './data',
      logLevel: 'info',
      production: false,
      databaseUrl: undefined,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses versioned master keys; the highest is active', () => {
    const c = loadConfig({ TOKENVAULT_MASTER_KEYS: `1:${key()},3:${key()}` });
    expect([...c.keys.masterKeys!.keys()]).toEqual([1, 3]);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT /],
    [{ PORT: '70000' }, /^PORT must be from 1 to 65535/],
    [
      { TOKENVAULT_MASTER_KEYS: `1:${randomBytes(16).toString('base64')}` },
      /TOKENVAULT_MASTER_KEYS version 1 must be exactly 32 bytes \(got 16;/,
    ],
    [{ TOKENVAULT_MASTER_KEYS: 'abc' }, /TOKENVAULT_MASTER_KEYS must be a list/],
    [{ TOKENVAULT_MASTER_KEYS: `1:${key()},1:${key()}` }, /lists version 1 twice/],
    [{ TOKENVAULT_FINGERPRINT_KEY: 'not base64!!' }, /TOKENVAULT_FINGERPRINT_KEY must be base64/],
    [{ TOKENVAULT_JWT_SECRET: randomBytes(16).toString('base64') }, /TOKENVAULT_JWT_SECRET is too short, need at least 32 bytes/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL /],
    [{ NODE_ENV: 'production', ...prodKeys() }, /DATABASE_URL is required when NODE_ENV=production/],
    [{ NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y' }, /TOKENVAULT_MASTER_KEYS is required when NODE_ENV=production/],
    [
      { NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y', ...prodKeys(), TOKENVAULT_AUDIT_SIGNING_KEY: '' },
      /TOKENVAULT_AUDIT_SIGNING_KEY is required when NODE_ENV=production/,
    ],
    [
      { TOKENVAULT_AUDIT_SIGNING_KEY: Buffer.alloc(31, 7).toString('base64') },
      /TOKENVAULT_AUDIT_SIGNING_KEY must be exactly 32 bytes \(got 31;/,
    ],
    [
      (() => {
        const k = key();
        return { TOKENVAULT_SIGNING_KEY: k, TOKENVAULT_AUDIT_SIGNING_KEY: k };
      })(),
      /TOKENVAULT_AUDIT_SIGNING_KEY must differ from TOKENVAULT_SIGNING_KEY/,
    ],
    [{ TOKENVAULT_AUDIT_SEAL_BOUND_MS: '50' }, /TOKENVAULT_AUDIT_SEAL_BOUND_MS must be from 100 to 600000/],
    [{ TOKENVAULT_AUDIT_SEAL_BOUND_MS: '1s' }, /^TOKENVAULT_AUDIT_SEAL_BOUND_MS /],
  ])('rejects %j naming the variable', (env, message) => {
    expect(problems(env as Record<string, string>).some((p) => message.test(p))).toBe(true);
  });

  it('accepts a complete production configuration', () => {
    const c = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@h/db',
      ...prodKeys(),
      TOKENVAULT_AUDIT_SEAL_BOUND_MS: '2500',
    });
    expect(c.production).toBe(true);
    expect(c.auditSealBoundMs).toBe(2500);
    expect(c.keys.auditSigningKey).toHaveLength(32);
  });
});

const bytes = (n: number) => Buffer.alloc(n, 7).toString('base64');

describe('config values and bounds', () => {
  it('access and pool defaults', () => {
    const c = loadConfig({});
    expect(c.dbPoolSize).toBe(4);
    expect(c.access).toEqual({
      revealBudget: 1000,
      revealWindowSeconds: 3600,
      rateLimitPerMinute: 600_000,
      tokenTtlSeconds: 900,
      ipRateLimitPerMinute: 600_000,
      trustProxy: false,
    });
    expect(DEFAULT_ACCESS).toEqual(c.access);
    expect(Object.isFrozen(c.access)).toBe(true);
    expect(Object.isFrozen(c.keys)).toBe(true);
    expect(c).toMatchObject({
      jwtIssuer: 'tokenvault',
      jwtAudience: 'tokenvault',
      policyPath: undefined,
      idpConfigPath: undefined,
      keys: {},
    });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u@h/db',
      TOKENVAULT_DATA_DIR: '/var/lib/tv',
      HOST: '0.0.0.0',
      PORT: '9000',
      TOKENVAULT_POLICY: 'policy.yaml',
      TOKENVAULT_DB_POOL_SIZE: '12',
      TOKENVAULT_IDP_CONFIG: 'idp.json',
      TOKENVAULT_REVEAL_BUDGET: '0',
      TOKENVAULT_REVEAL_WINDOW_SECONDS: '60',
      TOKENVAULT_RATE_LIMIT_PER_MINUTE: '5',
      TOKENVAULT_TOKEN_TTL_SECONDS: '120',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
    });
    expect(c).toMatchObject({
      production: false,
      databaseUrl: 'postgresql://u@h/db',
      dataDir: '/var/lib/tv',
      host: '0.0.0.0',
      port: 9000,
      policyPath: 'policy.yaml',
      dbPoolSize: 12,
      idpConfigPath: 'idp.json',
      logLevel: 'silent',
      access: { revealBudget: 0, revealWindowSeconds: 60, rateLimitPerMinute: 5, tokenTtlSeconds: 120 },
    });
  });

  it('an empty variable counts as unset', () => {
    expect(loadConfig({ PORT: '', TOKENVAULT_TOKEN_TTL_SECONDS: '', DATABASE_URL: '' })).toMatchObject({
      port: 8080,
      databaseUrl: undefined,
      access: { tokenTtlSeconds: 900 },
    });
  });

  it.each([
    ['TOKENVAULT_TOKEN_TTL_SECONDS', '59', 'TOKENVAULT_TOKEN_TTL_SECONDS must be from 60 to 86400'],
    ['TOKENVAULT_TOKEN_TTL_SECONDS', '86401', 'TOKENVAULT_TOKEN_TTL_SECONDS must be from 60 to 86400'],
    ['TOKENVAULT_DB_POOL_SIZE', '0', 'TOKENVAULT_DB_POOL_SIZE must be at least 1'],
    ['TOKENVAULT_REVEAL_WINDOW_SECONDS', '0', 'TOKENVAULT_REVEAL_WINDOW_SECONDS must be at least 1'],
    ['TOKENVAULT_RATE_LIMIT_PER_MINUTE', '0', 'TOKENVAULT_RATE_LIMIT_PER_MINUTE must be at least 1'],
    ['PORT', '0', 'PORT must be from 1 to 65535'],
    ['PORT', '65536', 'PORT must be from 1 to 65535'],
  ])('%s=%s is refused: exactly one problem', (name, value, problem) => {
    expect(problems({ [name]: value })).toEqual([problem]);
  });

  it.each([
    ['TOKENVAULT_TOKEN_TTL_SECONDS', '60', (c: Config) => c.access.tokenTtlSeconds, 60],
    ['TOKENVAULT_TOKEN_TTL_SECONDS', '86400', (c: Config) => c.access.tokenTtlSeconds, 86_400],
    ['TOKENVAULT_DB_POOL_SIZE', '1', (c: Config) => c.dbPoolSize, 1],
    ['TOKENVAULT_REVEAL_WINDOW_SECONDS', '1', (c: Config) => c.access.revealWindowSeconds, 1],
    ['TOKENVAULT_RATE_LIMIT_PER_MINUTE', '1', (c: Config) => c.access.rateLimitPerMinute, 1],
    ['PORT', '1', (c: Config) => c.port, 1],
    ['PORT', '65535', (c: Config) => c.port, 65_535],
  ])('%s=%s is the edge of the allowed range', (name, value, read, expected) => {
    expect(read(loadConfig({ [name]: value }))).toBe(expected);
  });

  it('keys: master and signing keys exactly 32 bytes, fingerprint and JWT keys at least 32', () => {
    expect(problems({ TOKENVAULT_MASTER_KEYS: `1:${bytes(31)}` })).toEqual([
      'TOKENVAULT_MASTER_KEYS version 1 must be exactly 32 bytes (got 31; generate one with `openssl rand -base64 32`)',
    ]);
    expect(problems({ TOKENVAULT_MASTER_KEYS: `1:${bytes(33)}` })).toEqual([
      'TOKENVAULT_MASTER_KEYS version 1 must be exactly 32 bytes (got 33; generate one with `openssl rand -base64 32`)',
    ]);
    expect(problems({ TOKENVAULT_SIGNING_KEY: bytes(31) })).toEqual([
      'TOKENVAULT_SIGNING_KEY must be exactly 32 bytes (got 31; generate one with `openssl rand -base64 32`)',
    ]);
    expect(problems({ TOKENVAULT_SIGNING_KEY: bytes(33) })).toEqual([
      'TOKENVAULT_SIGNING_KEY must be exactly 32 bytes (got 33; generate one with `openssl rand -base64 32`)',
    ]);
    expect(problems({ TOKENVAULT_FINGERPRINT_KEY: bytes(31) })).toEqual([
      'TOKENVAULT_FINGERPRINT_KEY is too short, need at least 32 bytes (got 31; generate one with `openssl rand -base64 32`)',
    ]);
    expect(problems({ TOKENVAULT_JWT_SECRET: bytes(31) })).toEqual([
      'TOKENVAULT_JWT_SECRET is too short, need at least 32 bytes (got 31; generate one with `openssl rand -base64 32`)',
    ]);
    const c = loadConfig({
      TOKENVAULT_MASTER_KEYS: `1:${bytes(32)}`,
      TOKENVAULT_SIGNING_KEY: bytes(32),
      TOKENVAULT_FINGERPRINT_KEY: bytes(32),
      TOKENVAULT_JWT_SECRET: bytes(64),
    });
    expect(c.keys.masterKeys!.get(1)).toEqual(Buffer.alloc(32, 7));
    expect(c.keys.signingKey).toEqual(Buffer.alloc(32, 7));
    expect(c.keys.fingerprintKey).toEqual(Buffer.alloc(32, 7));
    expect(c.keys.jwtSecret).toEqual(Buffer.alloc(64, 7));
  });

  it('base64 is checked by round trip; padding and surrounding spaces are allowed', () => {
    expect(loadConfig({ TOKENVAULT_FINGERPRINT_KEY: bytes(32).replace(/=+$/, '') }).keys.fingerprintKey).toEqual(Buffer.alloc(32, 7));
    expect(loadConfig({ TOKENVAULT_MASTER_KEYS: ` 1:${bytes(32)} , 2:${bytes(32)} ` }).keys.masterKeys!.size).toBe(2);
    expect(problems({ TOKENVAULT_JWT_SECRET: `${bytes(32)}*` })).toEqual([
      'TOKENVAULT_JWT_SECRET must be base64 (generate one with `openssl rand -base64 32`)',
    ]);
    expect(problems({ TOKENVAULT_SIGNING_KEY: `!${bytes(32)}` })).toEqual([
      'TOKENVAULT_SIGNING_KEY must be base64 (generate one with `openssl rand -base64 32`)',
    ]);
    // Spaces around a key (a pasted value) are ignored, as base64 decoding ignores them.
    expect(loadConfig({ TOKENVAULT_FINGERPRINT_KEY: ` ${bytes(32)} ` }).keys.fingerprintKey).toEqual(Buffer.alloc(32, 7));
  });

  it('master key versions: ≥ 1, each once, all listed problems at once', () => {
    const list = 'TOKENVAULT_MASTER_KEYS must be a list of <version>:<base64 32 bytes>, versions ≥ 1, e.g. 1:AAAA…,2:BBBB…';
    expect(problems({ TOKENVAULT_MASTER_KEYS: `0:${bytes(32)}` })).toEqual([list]);
    expect(problems({ TOKENVAULT_MASTER_KEYS: `1:${bytes(32)},` })).toEqual([list]);
    expect(problems({ TOKENVAULT_MASTER_KEYS: `1234567:${bytes(32)}` })).toEqual([list]);
    expect(problems({ TOKENVAULT_MASTER_KEYS: `1:${bytes(32)} 2:${bytes(32)}` })).toEqual([list]);
    expect(problems({ TOKENVAULT_MASTER_KEYS: `2:${bytes(32)},2:${bytes(32)}` })).toEqual(['TOKENVAULT_MASTER_KEYS lists version 2 twice']);
    expect(loadConfig({ TOKENVAULT_MASTER_KEYS: `999999:${bytes(32)}` }).keys.masterKeys!.has(999_999)).toBe(true);
    expect(problems({ TOKENVAULT_MASTER_KEYS: `1:${bytes(16)},2:${bytes(32)}`, PORT: '0', TOKENVAULT_DB_POOL_SIZE: '0' })).toEqual([
      'PORT must be from 1 to 65535',
      'TOKENVAULT_DB_POOL_SIZE must be at least 1',
      'TOKENVAULT_MASTER_KEYS version 1 must be exactly 32 bytes (got 16; generate one with `openssl rand -base64 32`)',
    ]);
  });

  it('production requires every key and a database, and lists each missing one', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      'DATABASE_URL is required when NODE_ENV=production (the embedded database is for development)',
      'TOKENVAULT_MASTER_KEYS is required when NODE_ENV=production (keys are generated only in development)',
      'TOKENVAULT_FINGERPRINT_KEY is required when NODE_ENV=production (keys are generated only in development)',
      'TOKENVAULT_JWT_SECRET is required when NODE_ENV=production (keys are generated only in development)',
      'TOKENVAULT_SIGNING_KEY is required when NODE_ENV=production (keys are generated only in development)',
      'TOKENVAULT_AUDIT_SIGNING_KEY is required when NODE_ENV=production (keys are generated only in development)',
    ]);
    expect(loadConfig({ NODE_ENV: 'development' }).production).toBe(false);
  });

  it('schema errors stop before the value checks, and the error says what it is', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'x', TOKENVAULT_DB_POOL_SIZE: '1000', TOKENVAULT_TOKEN_TTL_SECONDS: '1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.name).toBe('ConfigError');
    expect(e.problems.map((p) => p.split(' ')[0])).toEqual(['PORT', 'TOKENVAULT_DB_POOL_SIZE']);
    expect(e.message).toBe(`invalid configuration:\n  - ${e.problems.join('\n  - ')}`);
  });
});

import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/** Raised for any bad configuration; the message names every offending variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const EnvSchema = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TOKENVAULT_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  TOKENVAULT_MASTER_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_FINGERPRINT_KEY: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_JWT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_SIGNING_KEY: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_AUDIT_SIGNING_KEY: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_AUDIT_SEAL_BOUND_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  TOKENVAULT_POLICY: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_DB_POOL_SIZE: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  TOKENVAULT_IDP_CONFIG: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_REVEAL_BUDGET: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  TOKENVAULT_REVEAL_WINDOW_SECONDS: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  TOKENVAULT_RATE_LIMIT_PER_MINUTE: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  TOKENVAULT_TOKEN_TTL_SECONDS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  TOKENVAULT_IP_RATE_LIMIT_PER_MINUTE: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  TOKENVAULT_TRUST_PROXY: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  TOKENVAULT_DB_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  TOKENVAULT_DOCS: Type.Optional(Type.String()),
  // Checked below: a union's errors would be one "must be equal to constant" per level.
  LOG_LEVEL: Type.Optional(Type.String()),
  NODE_ENV: Type.Optional(Type.String()),
});
type Env = Static<typeof EnvSchema>;

export interface KeyMaterial {
  /** KEK version → 32 raw bytes. The highest version is active. */
  readonly masterKeys: ReadonlyMap<number, Buffer>;
  readonly fingerprintKey: Buffer;
  readonly jwtSecret: Buffer;
  /** Ed25519 private key seed (32 bytes) that signs erasure receipts. */
  readonly signingKey: Buffer;
  /** Ed25519 private key seed (32 bytes) that signs audit checkpoints; audit row MACs derive from it. */
  readonly auditSigningKey: Buffer;
}

export interface Config {
  readonly production: boolean;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly dbPoolSize: number;
  readonly policyPath: string | undefined;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Keys given in the environment; missing ones are generated in development only. */
  readonly keys: Partial<KeyMaterial>;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly access: AccessConfig;
  /** Path of the company IdP configuration (issuer, audience, keys, claim mapping). */
  readonly idpConfigPath: string | undefined;
  /** Serve the Swagger UI (/docs) and /openapi.json. */
  readonly docs: boolean;
  /** Every committed audit row is sealed within this many milliseconds. */
  readonly auditSealBoundMs: number;
}

export interface AccessConfig {
  /** Revealed values per principal per window (default; clients and IdP groups may override). */
  readonly revealBudget: number;
  readonly revealWindowSeconds: number;
  /** API requests per principal per minute, per instance. */
  readonly rateLimitPerMinute: number;
  /** Lifetime of vault-issued JWTs. */
  readonly tokenTtlSeconds: number;
  /** Requests per client IP per minute, per instance, counted before the body is read. */
  readonly ipRateLimitPerMinute: number;
  /**
   * Which proxies' X-Forwarded-For to believe (Fastify's trustProxy): false (the socket's peer is
   * the client), true (any), a hop count, or addresses/CIDRs. Behind a load balancer without it,
   * every caller shares the balancer's IP bucket.
   */
  readonly trustProxy: boolean | number | readonly string[];
}

export const DEFAULT_ACCESS: AccessConfig = Object.freeze({
  revealBudget: 1000,
  revealWindowSeconds: 3600,
  rateLimitPerMinute: 600_000,
  tokenTtlSeconds: 900,
  ipRateLimitPerMinute: 600_000,
  trustProxy: false,
});

/** `true`, a hop count, or a comma-separated list of IPv4/IPv6 addresses or CIDRs. */
function parseTrustProxy(value: string | undefined, problems: string[]): AccessConfig['trustProxy'] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^[0-9]{1,2}$/.test(value)) return Number(value);
  const list = value.split(',').map((s) => s.trim());
  if (list.every((a) => /^[0-9a-fA-F.:]{2,45}(\/[0-9]{1,3})?$/.test(a) && (a.includes('.') || a.includes(':')))) return list;
  problems.push('TOKENVAULT_TRUST_PROXY must be true, false, a hop count, or a comma-separated list of proxy addresses or CIDRs');
  return false;
}

const KEY_BYTES = 32;
export const DEFAULT_AUDIT_SEAL_BOUND_MS = 1000;

const GENERATE = 'generate one with `openssl rand -base64 32`';

function decodeKey(name: string, value: string, problems: string[], exact?: number): Buffer | undefined {
  // Checked first: Buffer.from silently skips characters that are not base64.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value.trim())) {
    problems.push(`${name} must be base64 (${GENERATE})`);
    return undefined;
  }
  const b = Buffer.from(value.trim(), 'base64');
  if (exact !== undefined ? b.length !== exact : b.length < KEY_BYTES) {
    const what = exact !== undefined ? `must be exactly ${exact} bytes` : `is too short, need at least ${KEY_BYTES} bytes`;
    problems.push(`${name} ${what} (got ${b.length}; ${GENERATE})`);
    return undefined;
  }
  return b;
}

/** Secrets that may come from a file instead (`<NAME>_FILE`: Docker and Kubernetes secrets). */
export const FILE_VARIABLES = [
  'DATABASE_URL',
  'TOKENVAULT_DB_PASSWORD',
  'TOKENVAULT_MASTER_KEYS',
  'TOKENVAULT_FINGERPRINT_KEY',
  'TOKENVAULT_JWT_SECRET',
  'TOKENVAULT_SIGNING_KEY',
  'TOKENVAULT_AUDIT_SIGNING_KEY',
] as const;

function fromFiles(rawEnv: NodeJS.ProcessEnv, problems: string[]): NodeJS.ProcessEnv {
  const env = { ...rawEnv };
  for (const name of FILE_VARIABLES) {
    const file = rawEnv[`${name}_FILE`];
    if (!file) continue;
    if (rawEnv[name]) {
      problems.push(`set ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      // One trailing newline is what `echo` and most editors add; it is not part of the secret.
      env[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return env;
}

/** The password given apart from the URL, so that no character of it needs URL-encoding. */
function withPassword(url: string | undefined, password: string | undefined): string | undefined {
  if (!url || password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

function parseMasterKeys(value: string, problems: string[]): Map<number, Buffer> | undefined {
  const keys = new Map<number, Buffer>();
  for (const part of value.split(',')) {
    const m = /^\s*([0-9]{1,6}):(\S+)\s*$/.exec(part);
    if (!m || Number(m[1]) < 1) {
      problems.push('TOKENVAULT_MASTER_KEYS must be a list of <version>:<base64 32 bytes>, versions ≥ 1, e.g. 1:AAAA…,2:BBBB…');
      return undefined;
    }
    const version = Number(m[1]);
    if (keys.has(version)) {
      problems.push(`TOKENVAULT_MASTER_KEYS lists version ${version} twice`);
      return undefined;
    }
    const key = decodeKey(`TOKENVAULT_MASTER_KEYS version ${version}`, m[2]!, problems, KEY_BYTES);
    if (key) keys.set(version, key);
  }
  return keys;
}

/** Validates the environment once; the result is frozen. Throws ConfigError naming each bad variable. */
export function loadConfig(rawEnv: NodeJS.ProcessEnv, opts: { requireKeys?: boolean } = {}): Config {
  const problems: string[] = [];
  const fileEnv = fromFiles(rawEnv, problems);
  const picked: Record<string, string> = {};
  for (const k of Object.keys(EnvSchema.properties)) {
    const v = fileEnv[k];
    if (v !== undefined && v !== '') picked[k] = v;
  }
  for (const e of Value.Errors(EnvSchema, picked)) {
    const name = e.instancePath.replace(/^\//, '') || 'environment';
    // Secrets are never echoed; the schema's messages do not quote values.
    problems.push(`${name} ${e.message}`);
  }
  if (picked.LOG_LEVEL !== undefined && !(LOG_LEVELS as readonly string[]).includes(picked.LOG_LEVEL)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (picked.TOKENVAULT_DOCS !== undefined && picked.TOKENVAULT_DOCS !== 'on' && picked.TOKENVAULT_DOCS !== 'off')
    problems.push('TOKENVAULT_DOCS must be on or off');
  if (problems.length) throw new ConfigError(problems);
  const env = picked as Env;

  const production = env.NODE_ENV === 'production';
  const port = Number(env.PORT ?? 8080);
  if (port < 1 || port > 65535) problems.push('PORT must be from 1 to 65535');
  const dbPoolSize = Number(env.TOKENVAULT_DB_POOL_SIZE ?? 4);
  if (dbPoolSize < 1) problems.push('TOKENVAULT_DB_POOL_SIZE must be at least 1');
  const auditSealBoundMs = Number(env.TOKENVAULT_AUDIT_SEAL_BOUND_MS ?? DEFAULT_AUDIT_SEAL_BOUND_MS);
  if (auditSealBoundMs < 100 || auditSealBoundMs > 600_000) problems.push('TOKENVAULT_AUDIT_SEAL_BOUND_MS must be from 100 to 600000');
  const access: AccessConfig = {
    revealBudget: Number(env.TOKENVAULT_REVEAL_BUDGET ?? DEFAULT_ACCESS.revealBudget),
    revealWindowSeconds: Number(env.TOKENVAULT_REVEAL_WINDOW_SECONDS ?? DEFAULT_ACCESS.revealWindowSeconds),
    rateLimitPerMinute: Number(env.TOKENVAULT_RATE_LIMIT_PER_MINUTE ?? DEFAULT_ACCESS.rateLimitPerMinute),
    tokenTtlSeconds: Number(env.TOKENVAULT_TOKEN_TTL_SECONDS ?? DEFAULT_ACCESS.tokenTtlSeconds),
    ipRateLimitPerMinute: Number(env.TOKENVAULT_IP_RATE_LIMIT_PER_MINUTE ?? DEFAULT_ACCESS.ipRateLimitPerMinute),
    trustProxy: parseTrustProxy(env.TOKENVAULT_TRUST_PROXY, problems),
  };
  if (access.ipRateLimitPerMinute < 1) problems.push('TOKENVAULT_IP_RATE_LIMIT_PER_MINUTE must be at least 1');
  if (access.revealWindowSeconds < 1) problems.push('TOKENVAULT_REVEAL_WINDOW_SECONDS must be at least 1');
  if (access.rateLimitPerMinute < 1) problems.push('TOKENVAULT_RATE_LIMIT_PER_MINUTE must be at least 1');
  if (access.tokenTtlSeconds < 60 || access.tokenTtlSeconds > 86_400)
    problems.push('TOKENVAULT_TOKEN_TTL_SECONDS must be from 60 to 86400');

  const keys: { -readonly [K in keyof KeyMaterial]?: KeyMaterial[K] } = {};
  if (env.TOKENVAULT_MASTER_KEYS) keys.masterKeys = parseMasterKeys(env.TOKENVAULT_MASTER_KEYS, problems);
  if (env.TOKENVAULT_FINGERPRINT_KEY)
    keys.fingerprintKey = decodeKey('TOKENVAULT_FINGERPRINT_KEY', env.TOKENVAULT_FINGERPRINT_KEY, problems);
  if (env.TOKENVAULT_JWT_SECRET) keys.jwtSecret = decodeKey('TOKENVAULT_JWT_SECRET', env.TOKENVAULT_JWT_SECRET, problems);
  if (env.TOKENVAULT_SIGNING_KEY) keys.signingKey = decodeKey('TOKENVAULT_SIGNING_KEY', env.TOKENVAULT_SIGNING_KEY, problems, KEY_BYTES);
  if (env.TOKENVAULT_AUDIT_SIGNING_KEY)
    keys.auditSigningKey = decodeKey('TOKENVAULT_AUDIT_SIGNING_KEY', env.TOKENVAULT_AUDIT_SIGNING_KEY, problems, KEY_BYTES);
  if (keys.auditSigningKey && keys.signingKey?.equals(keys.auditSigningKey))
    problems.push('TOKENVAULT_AUDIT_SIGNING_KEY must differ from TOKENVAULT_SIGNING_KEY');

  if (production) {
    // Fail closed: production never runs on generated keys or the embedded database.
    if (!env.DATABASE_URL) problems.push('DATABASE_URL is required when NODE_ENV=production (the embedded database is for development)');
    // `migrate` touches no key: its container is not given them (least privilege).
    for (const name of opts.requireKeys === false
      ? []
      : ([
          'TOKENVAULT_MASTER_KEYS',
          'TOKENVAULT_FINGERPRINT_KEY',
          'TOKENVAULT_JWT_SECRET',
          'TOKENVAULT_SIGNING_KEY',
          'TOKENVAULT_AUDIT_SIGNING_KEY',
        ] as const)) {
      if (!env[name]) problems.push(`${name} is required when NODE_ENV=production (keys are generated only in development)`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    production,
    databaseUrl: withPassword(env.DATABASE_URL, env.TOKENVAULT_DB_PASSWORD),
    dataDir: env.TOKENVAULT_DATA_DIR ?? './data',
    host: env.HOST ?? '127.0.0.1',
    port,
    dbPoolSize,
    policyPath: env.TOKENVAULT_POLICY,
    logLevel: (env.LOG_LEVEL ?? 'info') as Config['logLevel'],
    keys: Object.freeze(keys),
    jwtIssuer: 'tokenvault',
    jwtAudience: 'tokenvault',
    access: Object.freeze(access),
    idpConfigPath: env.TOKENVAULT_IDP_CONFIG,
    docs: env.TOKENVAULT_DOCS !== 'off',
    auditSealBoundMs,
  });
}

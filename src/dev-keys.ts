import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, KeyMaterial } from './config.js';

const FILE = 'dev-keys.json';

/**
 * Keys for the vault: those from the environment, and in development the missing ones from
 * `<dataDir>/dev-keys.json` (generated on first start, mode 0600). Production has all keys
 * already (loadConfig refuses otherwise).
 */
export function resolveKeys(config: Config, warn: (msg: string) => void): KeyMaterial {
  const k = config.keys;
  if (k.masterKeys && k.fingerprintKey && k.jwtSecret && k.signingKey && k.auditSigningKey) {
    return {
      masterKeys: k.masterKeys,
      fingerprintKey: k.fingerprintKey,
      jwtSecret: k.jwtSecret,
      signingKey: k.signingKey,
      auditSigningKey: k.auditSigningKey,
    };
  }
  if (config.production) throw new Error('production requires every key in the environment');
  const path = join(config.dataDir, FILE);
  let stored: Record<string, string> = {};
  if (existsSync(path)) {
    if ((statSync(path).mode & 0o077) !== 0) throw new Error(`${path} is readable by group or others; chmod 600 it`);
    stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  }
  const generated: string[] = [];
  const get = (name: string, bytes: number): Buffer => {
    if (!stored[name]) {
      stored[name] = randomBytes(bytes).toString('base64');
      generated.push(name);
    }
    return Buffer.from(stored[name]!, 'base64');
  };
  const material: KeyMaterial = {
    masterKeys: k.masterKeys ?? new Map([[1, get('masterKey1', 32)]]),
    fingerprintKey: k.fingerprintKey ?? get('fingerprintKey', 32),
    jwtSecret: k.jwtSecret ?? get('jwtSecret', 32),
    signingKey: k.signingKey ?? get('signingKey', 32),
    auditSigningKey: k.auditSigningKey ?? get('auditSigningKey', 32),
  };
  if (generated.length) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(path, JSON.stringify(stored, null, 2), { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  warn(
    `DEVELOPMENT KEYS in ${path}${generated.length ? ` (generated: ${generated.join(', ')})` : ''}. ` +
      'Never use them in production: set NODE_ENV=production and provide every key in the environment.',
  );
  return material;
}

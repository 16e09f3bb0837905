import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FILE_VARIABLES } from '../../src/config.js';
import { ROOT } from '../helpers/process.js';

/** Docker is not available where this is developed: the compose file is checked by reading it. */
interface Service {
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  deploy?: { resources?: { limits?: { memory?: string } } };
}
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const KEY_VARIABLES = ['TOKENVAULT_MASTER_KEYS', 'TOKENVAULT_FINGERPRINT_KEY', 'TOKENVAULT_JWT_SECRET', 'TOKENVAULT_SIGNING_KEY'];

function megabytes(limit: string): number {
  const m = /^([0-9]+)([mg])$/i.exec(limit);
  if (!m) throw new Error(`unexpected memory limit ${limit}`);
  return Number(m[1]) * (m[2]!.toLowerCase() === 'g' ? 1024 : 1);
}

describe('docker-compose.yml', () => {
  const { migrate, vault } = compose.services;

  it('no secret is an environment value or part of a URL: every one is a *_FILE naming a mounted secret', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const env = service.environment ?? {};
      for (const v of [...FILE_VARIABLES, 'POSTGRES_PASSWORD'])
        expect(env[v] === undefined || v === 'DATABASE_URL', `${name}: ${v} given as a value`).toBe(true);
      if (env.DATABASE_URL) expect(new URL(env.DATABASE_URL).password, `${name}: password in DATABASE_URL`).toBe('');
      for (const [k, path] of Object.entries(env).filter(([k]) => k.endsWith('_FILE'))) {
        const secret = /^\/run\/secrets\/([a-z_]+)$/.exec(path)?.[1];
        expect(secret && service.secrets?.includes(secret), `${name}: ${k} reads ${path}, not a secret it mounts`).toBe(true);
        expect(compose.secrets[secret!]?.file).toBe(`./secrets/${secret}`);
      }
    }
  });

  it('the migration gets the owner password and nothing else; the vault runs as the least-privilege role', () => {
    expect(migrate!.secrets).toEqual(['postgres_password']);
    for (const k of KEY_VARIABLES) expect(migrate!.environment?.[`${k}_FILE`], k).toBeUndefined();
    expect(new URL(migrate!.environment!.DATABASE_URL!).username).toBe('tokenvault');
    expect(new URL(vault!.environment!.DATABASE_URL!).username).toBe('tokenvault_app');
    expect(vault!.secrets).not.toContain('postgres_password');
    for (const k of KEY_VARIABLES) expect(vault!.environment?.[`${k}_FILE`], k).toMatch(/^\/run\/secrets\//);
  });

  it('policy and IdP files come from ./config/, read-only', () => {
    expect(vault!.volumes).toContain('./config:/app/config:ro');
    expect(vault!.environment!.TOKENVAULT_POLICY).toBe('/app/config/policy.yaml');
    expect(readFileSync(join(ROOT, 'config/policy.yaml'), 'utf8')).toContain('default: {}');
  });

  it("the vault's memory limit leaves room above the image's heap bound", () => {
    const heap = Number(/--max-old-space-size=([0-9]+)/.exec(dockerfile)?.[1]);
    const semi = Number(/--max-semi-space-size=([0-9]+)/.exec(dockerfile)?.[1]);
    const limit = megabytes(vault!.deploy!.resources!.limits!.memory!);
    expect(heap).toBeGreaterThan(0);
    // Old generation + young generation (3 semi-spaces) + ≥ 256 MB for code, stacks and buffers.
    expect(limit).toBeGreaterThanOrEqual(heap + 3 * semi + 256);
  });

  it('the image is built and run on Node 24 (the current LTS)', () => {
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
  });
});

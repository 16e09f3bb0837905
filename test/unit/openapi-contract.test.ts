import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { ROOT } from '../helpers/process.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the OpenAPI contract', () => {
  it("is lint-clean under Redocly's recommended rules", () => {
    // Throws (non-zero exit) on any error; warnings are counted from the summary.
    const out = execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', 'openapi/openapi.json', '--format=summary'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    expect(out).not.toMatch(/^(error|warning)\s/m);
  });

  it('documents every error code the API answers with', () => {
    const thrown = new Set<string>();
    for (const f of sources(join(ROOT, 'src'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/AppError\(\s*\d{3},\s*'([A-Z_]+)'/g)) thrown.add(m[1]!);
      for (const m of text.matchAll(/\[\d{3}, '([A-Z_]+)', '/g)) thrown.add(m[1]!);
      for (const m of text.matchAll(/status: \d{3}, code: '([A-Z_]+)'/g)) thrown.add(m[1]!);
      for (const m of text.matchAll(/error: \{ code: '([A-Z_]+)'/g)) thrown.add(m[1]!);
    }
    expect(thrown.size).toBeGreaterThanOrEqual(10);
    expect([...thrown].filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });
});

import { sql } from 'drizzle-orm';
import type { Keyring } from '../crypto/keyring.js';
import { rows, type Executor } from '../db/client.js';

export class KeyConfigError extends Error {
  readonly code = 'KEY_VERSION_IN_USE';
  constructor(message: string) {
    super(message);
    this.name = 'KeyConfigError';
  }
}

/** How many DEKs each KEK version wraps. */
export async function dekCountsByKekVersion(ex: Executor): Promise<Map<number, number>> {
  const r = await rows<{ v: number; n: number }>(ex, sql`select kek_version as v, count(*)::int as n from data_keys group by 1 order by 1`);
  return new Map(r.map((x) => [Number(x.v), Number(x.n)]));
}

/**
 * Fail closed at start: a master key version that still wraps data keys must stay configured,
 * or those keys (and every value under them) would become unreadable.
 */
export async function assertKekVersionsConfigured(ex: Executor, keyring: Keyring): Promise<void> {
  const counts = await dekCountsByKekVersion(ex);
  const missing = [...counts].filter(([v]) => !keyring.kekVersions.includes(v));
  if (missing.length) {
    throw new KeyConfigError(
      missing
        .map(([v, n]) => `master key version ${v} still wraps ${n} data key(s) but is not in TOKENVAULT_MASTER_KEYS; put it back (and run \`tokenvault keys rewrap\` before retiring it)`)
        .join('; '),
    );
  }
}

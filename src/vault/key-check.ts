import type { Keyring } from '../crypto/keyring.js';
import type { Executor } from '../db/client.js';
import { createKeysRepository } from '../db/repositories/keys-repository.js';

export class KeyConfigError extends Error {
  readonly code = 'KEY_VERSION_IN_USE';
  constructor(message: string) {
    super(message);
    this.name = 'KeyConfigError';
  }
}

/**
 * Fail closed at start: a master key version that still wraps data keys must stay configured,
 * or those keys (and every value under them) would become unreadable.
 */
export async function assertKekVersionsConfigured(ex: Executor, keyring: Keyring): Promise<void> {
  const counts = await createKeysRepository({ db: ex }).dekCountsByKekVersion();
  const missing = [...counts].filter(([v]) => !keyring.kekVersions.includes(v));
  if (missing.length) {
    throw new KeyConfigError(
      missing
        .map(
          ([v, n]) =>
            `master key version ${v} still wraps ${n} data key(s) but is not in TOKENVAULT_MASTER_KEYS; put it back (and run \`tokenvault keys rewrap\` before retiring it)`,
        )
        .join('; '),
    );
  }
}

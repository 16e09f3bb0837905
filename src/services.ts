import { createVaultJwt, type VaultJwt } from './auth/vault-jwt.js';
import type { KeyMaterial } from './config.js';
import { createKeyring, type Keyring } from './crypto/keyring.js';
import type { DbHandle } from './db/client.js';
import { createPooledRandom } from './formats/random.js';
import type { AppDeps } from './app.js';
import type { Policy } from './vault/policy.js';
import { createVault, type Vault } from './vault/vault.js';

export interface Services extends AppDeps {
  keyring: Keyring;
  vault: Vault;
  jwt: VaultJwt;
}

/** Wires the domain services on an open database. Shared by the server, the CLI and the tests. */
export function createServices(opts: { db: DbHandle; keys: KeyMaterial; policy: Policy; issuer?: string; audience?: string }): Services {
  const rng = createPooledRandom();
  const keyring = createKeyring({ masterKeys: opts.keys.masterKeys, fingerprintKey: opts.keys.fingerprintKey, rng });
  const vault = createVault({ db: opts.db.db, keyring, policy: opts.policy, rng });
  const jwt = createVaultJwt({ secret: opts.keys.jwtSecret, issuer: opts.issuer ?? 'tokenvault', audience: opts.audience ?? 'tokenvault' });
  return { db: opts.db, keyring, vault, jwt, authenticator: jwt };
}

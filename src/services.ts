import { createAuthenticator } from './auth/authenticator.js';
import { createClients, type Clients } from './auth/clients.js';
import { DEFAULT_GRANTS, type GrantPolicy } from './auth/grants.js';
import type { IdpIssuer } from './auth/idp.js';
import { argon2Hasher, type SecretHasher } from './auth/secrets.js';
import { createVaultJwt, type VaultJwt } from './auth/vault-jwt.js';
import { DEFAULT_ACCESS, DEFAULT_AUDIT_SEAL_BOUND_MS, type AccessConfig, type KeyMaterial } from './config.js';
import { createKeyring, type Keyring } from './crypto/keyring.js';
import { createSigner } from './crypto/signing.js';
import { createAuditLog } from './audit/audit-log.js';
import { deriveMacKey } from './audit/records.js';
import { createSealer } from './audit/sealer.js';
import type { DbHandle } from './db/client.js';
import { createRepositories } from './db/repositories/index.js';
import { createPooledRandom } from './crypto/random.js';
import type { AppDeps } from './app.js';
import { createRevealBudget } from './vault/budget.js';
import type { Policy } from './vault/policy.js';
import { createKeyManager, type KeyManager } from './vault/key-manager.js';
import { createVaultMetrics } from './vault/metrics.js';
import { createVault, type Vault } from './vault/vault.js';
import { Registry } from 'prom-client';

export interface Services extends AppDeps {
  keyring: Keyring;
  vault: Vault;
  jwt: VaultJwt;
  clients: Clients;
  access: AccessConfig;
  keyManager: KeyManager;
}

export interface ServiceOptions {
  db: DbHandle;
  keys: KeyMaterial;
  policy: Policy;
  access?: AccessConfig | undefined;
  /** The company IdPs whose staff tokens are accepted. */
  idp?: IdpIssuer[] | undefined;
  /** argon2id by default; tests wrap it to count calls. */
  hasher?: SecretHasher | undefined;
  issuer?: string;
  audience?: string;
  /** NODE_ENV=production: development tokens are refused. */
  production?: boolean | undefined;
  /** What an admin may grant over HTTP (the policy file's `grants`). */
  grants?: GrantPolicy | undefined;
  /** Every committed audit row is sealed within this bound (ms). */
  auditSealBoundMs?: number | undefined;
}

/**
 * The composition root: from key material, a policy and an open database, builds the repositories,
 * the keyring, the vault and the identity parts (vault JWTs, IdP, clients). Shared by the server,
 * the CLI and the tests. It wires processes' parts together; vault/vault.ts wires the domain
 * services among themselves (their caches, batchers and erasure watcher) and is all routes see.
 */
export function createServices(opts: ServiceOptions): Services {
  const access = opts.access ?? DEFAULT_ACCESS;
  const issuer = opts.issuer ?? 'tokenvault';
  const rng = createPooledRandom();
  const repos = createRepositories({ db: opts.db.db });
  const keyring = createKeyring({ masterKeys: opts.keys.masterKeys, fingerprintKey: opts.keys.fingerprintKey, rng });
  const macKey = deriveMacKey(opts.keys.auditSigningKey);
  const auditLog = createAuditLog({ macKey });
  const auditSigner = createSigner(opts.keys.auditSigningKey);
  const sealer = createSealer({
    handle: opts.db,
    signer: auditSigner,
    macKey,
    boundMs: opts.auditSealBoundMs ?? DEFAULT_AUDIT_SEAL_BOUND_MS,
  });
  const budget = createRevealBudget({
    defaultBudget: access.revealBudget,
    windowSeconds: access.revealWindowSeconds,
    counters: repos.revealCounters,
  });
  // One registry per app (tests run several in one process): the metrics plugin serves it.
  const metricsRegistry = new Registry();
  const metrics = createVaultMetrics(metricsRegistry);
  const vault = createVault({
    db: opts.db.db,
    repos,
    keyring,
    policy: opts.policy,
    rng,
    budget,
    signer: createSigner(opts.keys.signingKey),
    metrics,
    auditLog,
    auditSigner,
  });
  metrics.watch({ cache: vault.cache, feedHead: vault.erasureHead, pool: opts.db.pool });
  const jwt = createVaultJwt({ secret: opts.keys.jwtSecret, issuer, audience: opts.audience ?? 'tokenvault' });
  const clients = createClients({ db: opts.db.db, repo: repos.clients, hasher: opts.hasher ?? argon2Hasher, auditLog });
  const authenticator = createAuthenticator({
    jwtSecret: opts.keys.jwtSecret,
    vaultIssuer: issuer,
    vaultAudience: opts.audience ?? 'tokenvault',
    clients,
    idp: opts.idp ?? [],
    production: opts.production ?? false,
    tokenTtlSeconds: access.tokenTtlSeconds,
  });
  const keyManager = createKeyManager({ db: opts.db.db, keyring, dataKeys: vault.dataKeys, repo: repos.keys, actor: 'cli', auditLog });
  return {
    db: opts.db,
    keyring,
    vault,
    jwt,
    clients,
    access,
    authenticator,
    keyManager,
    grants: opts.grants ?? DEFAULT_GRANTS,
    sealer,
    metricsRegistry,
  };
}

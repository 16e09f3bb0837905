import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase, type DbHandle } from './db/client.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { migrate } from './db/migrate.js';
import { resolveKeys } from './dev-keys.js';
import { EXIT } from './exit-codes.js';
import { IdpConfigError, loadIdp } from './auth/idp.js';
import { createLogger } from './logger.js';
import { createServices } from './services.js';
import { checkDatabase, checkPort, listenError, StartupError } from './startup.js';
import { assertKekVersionsConfigured, KeyConfigError } from './vault/key-check.js';
import { loadGrants, loadPolicy, PolicyError } from './vault/policy.js';

/** Start-up failures are one plain line on stderr and a documented exit code (README: Exit codes). */
function fail(code: number, message: string): never {
  console.error(`tokenvault: ${message}`);
  process.exit(code);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(EXIT.config, err.message);
    throw err;
  }
  const log = createLogger(config.logLevel);
  let db: DbHandle | undefined;
  let serving = false;
  try {
    const keys = resolveKeys(config, (m) => log.warn(m));
    const policy = loadPolicy(config.policyPath);
    const idp = config.idpConfigPath ? loadIdp(config.idpConfigPath) : [];
    // The port before the database: a busy port must not cost a migration first.
    await checkPort(config.host, config.port);
    db = await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: config.dbPoolSize,
      owner: 'tokenvault server',
      onPoolError: (e) => log.warn({ err: { type: e.name, code: (e as { code?: unknown }).code } }, 'database connection lost'),
      // Before serving, a failed first contact is reported by checkDatabase, with its exit code.
      onAvailability: (reason) =>
        serving &&
        (reason
          ? log.error({ reason }, 'database unavailable: answering 503 and retrying with backoff')
          : log.info('database available again')),
    });
    if (db.kind === 'pglite') {
      log.info({ dataDir: config.dataDir }, 'embedded PostgreSQL (PGlite): applying migrations');
      await migrate(db);
    } else {
      await checkDatabase(db, config.databaseUrl!);
    }
    const services = createServices({
      db,
      keys,
      policy,
      idp,
      access: config.access,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      production: config.production,
      grants: loadGrants(config.policyPath),
      auditSealBoundMs: config.auditSealBoundMs,
    });
    await assertKekVersionsConfigured(db.db, services.keyring);
    const app = await buildApp({ ...services, docs: config.docs }, log);
    const opened = db;
    closeWithGrace({ delay: 10_000, logger: log }, async ({ signal, err }) => {
      if (err) log.error({ err: { type: err.name } }, 'shutting down after an error');
      else log.info({ signal }, 'shutting down');
      await app.close();
      log.info('HTTP server closed: in-flight requests answered');
      await opened.close();
      log.info('database closed');
    });
    await app.listen({ host: config.host, port: config.port }).catch((err: NodeJS.ErrnoException) => {
      throw listenError(err, config.host, config.port);
    });
    serving = true;
  } catch (err) {
    // Release the embedded database's lock before exiting (a pool has nothing to release).
    await db?.close().catch(() => undefined);
    if (err instanceof StartupError) fail(err.exitCode, err.message);
    if (err instanceof DataDirLockedError) fail(EXIT.dataDirLocked, err.message);
    if (err instanceof PolicyError || err instanceof KeyConfigError || err instanceof IdpConfigError) fail(EXIT.config, err.message);
    log.fatal({ err }, 'start failed');
    process.exit(EXIT.failure);
  }
}

void main();

import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { migrate, migrationsCurrent } from './db/migrate.js';
import { resolveKeys } from './dev-keys.js';
import { IdpConfigError, loadIdp } from './auth/idp.js';
import { createLogger } from './logger.js';
import { createServices } from './services.js';
import { assertKekVersionsConfigured, KeyConfigError } from './vault/key-check.js';
import { loadGrants, loadPolicy, PolicyError } from './vault/policy.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tokenvault: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  try {
    const keys = resolveKeys(config, (m) => log.warn(m));
    const policy = loadPolicy(config.policyPath);
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, onPoolError: (e) => log.warn({ err: { type: e.name } }, 'database connection lost') });
    if (db.kind === 'pglite') {
      log.info({ dataDir: config.dataDir }, 'embedded PostgreSQL (PGlite): applying migrations');
      await migrate(db);
    }
    const idp = config.idpConfigPath ? loadIdp(config.idpConfigPath) : [];
    const services = createServices({ db, keys, policy, idp, access: config.access, issuer: config.jwtIssuer, audience: config.jwtAudience, production: config.production, grants: loadGrants(config.policyPath), auditSealBoundMs: config.auditSealBoundMs });
    if (db.kind === 'pglite' || (await migrationsCurrent(db))) await assertKekVersionsConfigured(db.db, services.keyring);
    else log.warn('database migrations are not applied: run `npm run db:migrate` (readyz answers 503 until then)');
    const app = await buildApp(services, log);
    closeWithGrace({ delay: 10_000, logger: log }, async ({ signal, err }) => {
      if (err) log.error({ err: { type: err.name } }, 'shutting down after an error');
      else log.info({ signal }, 'shutting down');
      await app.close();
      log.info('HTTP server closed: in-flight requests answered');
      await db.close();
      log.info('database closed');
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    if (err instanceof PolicyError || err instanceof KeyConfigError || err instanceof IdpConfigError) log.fatal(err.message);
    else log.fatal({ err }, 'start failed');
    process.exit(1);
  }
}

void main();

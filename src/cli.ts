import { createWriteStream, readFileSync } from 'node:fs';
import type { JsonWebKey } from 'node:crypto';
import { createSigner, verifySignature } from './crypto/signing.js';
import { receiptSigningInput, type StoredReceipt } from './vault/erase.js';
import { parseArgs } from 'node:util';
import { latestCheckpoint, queryAudit } from './audit/audit-log.js';
import { exportAuditLog, verifyAuditLog, verifyExport, type ExportLine } from './audit/audit-reader.js';
import { verifyProof, type Anchor, type AuditProof } from './audit/verify.js';
import { loadConfig, type Config } from './config.js';
import { openDatabase, type DbHandle } from './db/client.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { EXIT } from './exit-codes.js';
import { createProgress } from './progress.js';
import { migrate } from './db/migrate.js';
import { resolveKeys } from './dev-keys.js';
import { createServices, type Services } from './services.js';
import { loadPolicy } from './vault/policy.js';
import { SCOPE_PATTERN } from './vault/principal.js';
import { violatesSeparationOfDuties } from './auth/grants.js';

const HELP = `tokenvault — tokenization vault for personal data

Usage: tokenvault <command> [options]

Commands:
  migrate                          apply database migrations (DATABASE_URL, or the embedded database)
  dev-token --scope "<scopes>"     print a signed JWT for trying the API (not in production)
        [--ns default,other] [--sub alice] [--ttl 1h]
  clients create --name <n> --scopes "<scopes>" [--namespaces a,b] [--reveal-budget N]
                                   create a service client; prints its id and secret once
  clients list                     list clients (never secrets)
  clients revoke <id>              revoke a client (its tokens stop within 5 seconds)
  clients rotate-secret <id>       replace a client's secret; prints the new one once
  audit verify [--anchor <last>:<root>]   verify the sealed log against its signed checkpoints
                                   (and that it still holds a checkpoint kept outside the database)
  audit head                       print the newest signed checkpoint, to keep outside the database
  audit public-key                 print the public key (JWK) that verifies checkpoints and proofs
  audit export --from <iso> --to <iso> [--out file]   NDJSON of the audit events for a SIEM
  audit export --verifiable [--out file]   the whole log, checkpoints and seals, for verify-export
  audit verify-export <file> --public-key <jwk.json> [--anchor <last>:<root>]
                                   verify an export offline: no database, no secret
  audit verify-proof <proof.json> --public-key <jwk.json>
                                   verify a row's proof (GET /v1/audit/{id}/proof) offline
  keys status                      data keys per master key version, and which versions can be retired
  keys rewrap [--batch 500]        re-wrap every data key under the active master key (online, resumable)
  keys rotate-dek --namespace <ns> start a new data key for a namespace's new values
  receipts verify <receipt.json> [--public-key <jwk.json>]
                                   check an erasure receipt offline (key: the file, else this
                                   vault's own signing key from the environment)
  tokenize-file --fields f.yaml [in.jsonl|-]
                                   tokenize JSON Lines through a running vault (see --help)
  help                             this text

Configuration comes from the environment (see README: DATABASE_URL, TOKENVAULT_DATA_DIR, keys, ...).
`;

export class UsageError extends Error {}

function parseTtl(s: string): number {
  const m = /^([0-9]+)([smhd]?)$/.exec(s);
  if (!m) throw new UsageError('--ttl must look like 900, 15m, 1h or 1d');
  const n = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as const)[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (n < 1 || n > 86400 * 30) throw new UsageError('--ttl must be between 1 second and 30 days');
  return n;
}

async function withServices<T>(config: Config, command: string, fn: (s: Services, db: DbHandle) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, owner: `tokenvault ${command}` });
  try {
    const keys = resolveKeys(config, (m) => console.error(`warning: ${m}`));
    return await fn(
      createServices({
        db,
        keys,
        policy: loadPolicy(config.policyPath),
        access: config.access,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
      }),
      db,
    );
  } finally {
    await db.close();
  }
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    out(HELP);
    return command ? 0 : 2;
  }
  // A client of a running vault over HTTP: none of the vault's own configuration is needed.
  if (command === 'tokenize-file') return (await import('./ingest/tokenize-file.js')).tokenizeFileCommand(rest, env, process);
  const config = loadConfig(env, { requireKeys: command !== 'migrate' });
  switch (command) {
    case 'migrate': {
      const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, owner: 'tokenvault migrate' });
      try {
        await migrate(db);
      } finally {
        await db.close();
      }
      out(`migrations applied (${db.kind})`);
      return 0;
    }
    case 'dev-token': {
      const { values } = parseArgs({
        args: rest,
        options: {
          scope: { type: 'string' },
          ns: { type: 'string', default: 'default' },
          sub: { type: 'string', default: 'dev' },
          ttl: { type: 'string', default: '1h' },
        },
      });
      if (config.production) throw new UsageError('dev-token is disabled when NODE_ENV=production');
      if (!values.scope) throw new UsageError('--scope is required, e.g. --scope "tokenize detokenize:plain:*"');
      const scopes = values.scope.split(/\s+/).filter(Boolean);
      const bad = scopes.filter((s) => !SCOPE_PATTERN.test(s));
      if (bad.length) throw new UsageError(`unknown scope(s): ${bad.join(', ')}`);
      const ttl = parseTtl(values.ttl);
      if (violatesSeparationOfDuties(scopes)) {
        console.error(
          'warning: this token holds tokenize with a detokenize scope, which breaks separation of duties: consistent tokens let it confirm guessed values. Fine for trying the API; the vault refuses such clients and IdP mappings, and refuses development tokens in production.',
        );
      }
      // Only the JWT secret is needed: no database is opened.
      const keys = resolveKeys(config, (m) => console.error(`warning: ${m}`));
      const { createVaultJwt } = await import('./auth/vault-jwt.js');
      const jwt = createVaultJwt({ secret: keys.jwtSecret, issuer: config.jwtIssuer, audience: config.jwtAudience });
      out(jwt.sign({ sub: values.sub, scope: scopes.join(' '), ns: values.ns.split(',').map((s) => s.trim()), kind: 'dev' }, ttl));
      return 0;
    }
    case 'clients':
      return clientsCommand(config, rest, out);
    case 'audit':
      return auditCommand(config, rest, out);
    case 'receipts':
      return receiptsCommand(config, rest, out);
    case 'keys':
      return keysCommand(config, rest, out);
    default:
      throw new UsageError(`unknown command ${command}; see tokenvault --help`);
  }
}

const CLI_ACTOR = 'cli';
const KEYS_USAGE = 'keys status | rewrap [--batch N] | rotate-dek --namespace <ns>';
const CLIENTS_USAGE = 'clients create --name <n> --scopes "<scopes>" | list | revoke <id> | rotate-secret <id>';

async function keysCommand(config: Config, args: string[], out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { batch: { type: 'string', default: '500' }, namespace: { type: 'string' } } });
  // Usage is checked before the database is opened (the embedded one takes seconds and a lock).
  if (sub !== 'status' && sub !== 'rewrap' && sub !== 'rotate-dek') throw new UsageError(KEYS_USAGE);
  const batchSize = Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError('--batch must be 1 to 10000');
  return withServices(config, `keys ${sub}`, async ({ keyManager, vault }) => {
    switch (sub) {
      case 'status': {
        const s = await keyManager.status();
        for (const v of s.versions) {
          const state =
            v.version === s.activeVersion
              ? 'active'
              : v.retireSafe
                ? 'no data keys: safe to remove from TOKENVAULT_MASTER_KEYS'
                : `still wraps data keys: run \`tokenvault keys rewrap\` before removing`;
          out(`version ${v.version}${v.configured ? '' : ' (NOT CONFIGURED)'}: ${v.dataKeys} data key(s) — ${state}`);
        }
        return 0;
      }
      case 'rewrap': {
        const before = await keyManager.status();
        const total = before.versions.filter((v) => v.version !== before.activeVersion).reduce((sum, v) => sum + v.dataKeys, 0);
        const progress = createProgress({ what: 're-wrapped data keys', total, stream: process.stderr });
        const r = await keyManager.rewrap({ batchSize, onBatch: (n) => progress.advance(n) }).finally(() => progress.stop());
        out(
          `re-wrapped ${r.rewrapped} data key(s) under version ${(await keyManager.status()).activeVersion}; ${r.remaining} left under other versions`,
        );
        return r.remaining === 0 ? 0 : 1;
      }
      case 'rotate-dek': {
        if (!values.namespace || !vault.policy.has(values.namespace))
          throw new UsageError('--namespace must name a namespace of the policy');
        out(`namespace ${values.namespace}: new data key ${await keyManager.rotateNamespaceDek(values.namespace)}`);
        return 0;
      }
    }
  });
}

async function receiptsCommand(config: Config, args: string[], out: (s: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { 'public-key': { type: 'string' } } });
  if (positionals[0] !== 'verify' || !positionals[1]) throw new UsageError('receipts verify <receipt.json> [--public-key <jwk.json>]');
  const receipt = JSON.parse(readFileSync(positionals[1], 'utf8')) as StoredReceipt;
  const jwk = values['public-key']
    ? (JSON.parse(readFileSync(values['public-key'], 'utf8')) as JsonWebKey)
    : createSigner(resolveKeys(config, (m) => console.error(`warning: ${m}`)).signingKey).publicJwk();
  const ok = typeof receipt.signature === 'string' && verifySignature(jwk, receiptSigningInput(receipt), receipt.signature);
  const shared =
    receipt.version === 2 && receipt.counts.retainedShared ? `, ${receipt.counts.retainedShared} shared value(s) only unlinked` : '';
  out(
    ok
      ? `valid: erasure ${receipt.erasureId}, ${receipt.tokensErased} token(s)${shared}, completed ${receipt.completedAt}`
      : 'INVALID: the receipt was altered or signed by another key',
  );
  return ok ? 0 : 1;
}

function parseAnchor(value: string | undefined): Anchor | undefined {
  if (value === undefined) return undefined;
  const m = /^([1-9][0-9]{0,14}):([0-9a-f]{64})$/.exec(value);
  if (!m) throw new UsageError('--anchor must be <last seq>:<64 hex root> of a checkpoint, as printed by `tokenvault audit head`');
  return { last: Number(m[1]), root: m[2]! };
}

function readPublicKey(path: string | undefined): JsonWebKey & { kid?: string } {
  if (!path) throw new UsageError('--public-key <jwk.json> is required (GET /v1/audit/public-key, or `tokenvault audit public-key`)');
  return JSON.parse(readFileSync(path, 'utf8')) as JsonWebKey & { kid?: string };
}

/** Offline: an export and the public key, no database and no secret. */
function verifyFiles(
  sub: string,
  file: string | undefined,
  values: { 'public-key'?: string | undefined; anchor?: string | undefined },
  out: (s: string) => void,
): number {
  if (!file) throw new UsageError(`audit ${sub} <file> --public-key <jwk.json>`);
  const publicKey = readPublicKey(values['public-key']);
  const text = readFileSync(file, 'utf8');
  if (sub === 'verify-proof') {
    const r = verifyProof(JSON.parse(text) as AuditProof, publicKey);
    out(JSON.stringify(r));
    return r.ok ? 0 : 1;
  }
  const lines = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ExportLine);
  const r = verifyExport(lines, publicKey, parseAnchor(values.anchor));
  out(JSON.stringify(r));
  return r.ok ? 0 : 1;
}

async function auditCommand(config: Config, args: string[], out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      anchor: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      verifiable: { type: 'boolean' },
      'public-key': { type: 'string' },
    },
  });
  if (sub === 'verify-export' || sub === 'verify-proof') return verifyFiles(sub, positionals[0], values, out);
  if (sub === 'public-key') {
    out(JSON.stringify(createSigner(resolveKeys(config, (m) => console.error(`warning: ${m}`)).auditSigningKey).publicJwk()));
    return 0;
  }
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 1,
    owner: `tokenvault audit ${sub ?? ''}`.trim(),
  });
  try {
    switch (sub) {
      case 'verify': {
        const publicKey = createSigner(resolveKeys(config, (m) => console.error(`warning: ${m}`)).auditSigningKey).publicJwk();
        const r = await verifyAuditLog(db.db, { publicKey, boundMs: config.auditSealBoundMs, anchor: parseAnchor(values.anchor) });
        out(JSON.stringify(r));
        return r.ok ? 0 : 1;
      }
      case 'head':
        out(JSON.stringify(await latestCheckpoint(db.db)));
        return 0;
      case 'export': {
        const sink = values.out ? createWriteStream(values.out, { mode: 0o600 }) : undefined;
        const emit = (line: string) => (sink ? sink.write(`${line}\n`) : out(line));
        let n = 0;
        if (values.verifiable) {
          if (values.from || values.to) throw new UsageError('--verifiable exports the whole log: no --from or --to');
          n = await exportAuditLog(db.db, config.auditSealBoundMs, (line) => emit(JSON.stringify(line)));
        } else {
          const from = values.from ? new Date(values.from) : undefined;
          const to = values.to ? new Date(values.to) : undefined;
          if ((from && isNaN(from.getTime())) || (to && isNaN(to.getTime())))
            throw new UsageError('--from and --to must be ISO 8601 times');
          for (let after = 0; ;) {
            const page = await queryAudit(db.db, { from, to, after, limit: 5000 });
            for (const e of page) emit(JSON.stringify({ ...e, ts: e.ts.toISOString() }));
            n += page.length;
            if (page.length < 5000) break;
            after = page[page.length - 1]!.id;
          }
        }
        if (sink) await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
        console.error(`exported ${n} audit events`);
        return 0;
      }
      default:
        throw new UsageError(
          'audit verify [--anchor last:root] | head | public-key | export [--from --to | --verifiable] [--out file] | verify-export <file> --public-key <jwk> [--anchor last:root] | verify-proof <proof.json> --public-key <jwk>',
        );
    }
  } finally {
    await db.close();
  }
}

async function clientsCommand(config: Config, args: string[], out: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      namespaces: { type: 'string', default: 'default' },
      'reveal-budget': { type: 'string' },
    },
  });
  // Usage is checked before the database is opened (the embedded one takes seconds and a lock).
  if (!sub || !['create', 'list', 'revoke', 'rotate-secret'].includes(sub)) throw new UsageError(CLIENTS_USAGE);
  if ((sub === 'revoke' || sub === 'rotate-secret') && !positionals[0]) throw new UsageError(`clients ${sub} <id>`);
  const scopes = (values.scopes ?? '').split(/[\s,]+/).filter(Boolean);
  const budget = values['reveal-budget'] === undefined ? undefined : Number(values['reveal-budget']);
  if (sub === 'create') {
    if (!values.name || !scopes.length) throw new UsageError('clients create needs --name and --scopes');
    const bad = scopes.filter((s) => !SCOPE_PATTERN.test(s));
    if (bad.length) throw new UsageError(`unknown scope(s): ${bad.join(', ')}; see the README's scope table`);
    if (budget !== undefined && (!Number.isInteger(budget) || budget < 0)) throw new UsageError('--reveal-budget must be a whole number');
  }
  return withServices(config, `clients ${sub}`, async ({ clients }) => {
    switch (sub) {
      case 'create': {
        const { client, secret } = await clients.create(
          { name: values.name!, scopes, namespaces: values.namespaces.split(',').map((s) => s.trim()), revealBudget: budget },
          CLI_ACTOR,
        );
        out(JSON.stringify({ clientId: client.id, clientSecret: secret, scopes: client.scopes, namespaces: client.namespaces }, null, 2));
        console.error('Store the secret now: it is not shown again.');
        return 0;
      }
      case 'list':
        out(JSON.stringify(await clients.list(), null, 2));
        return 0;
      case 'revoke': {
        out(JSON.stringify(await clients.revoke(positionals[0]!, CLI_ACTOR), null, 2));
        return 0;
      }
      case 'rotate-secret': {
        const { client, secret } = await clients.rotateSecret(positionals[0]!, CLI_ACTOR);
        out(JSON.stringify({ clientId: client.id, clientSecret: secret }, null, 2));
        return 0;
      }
    }
    throw new UsageError(CLIENTS_USAGE);
  });
}

/** The `tokenvault` command (bin/tokenvault.js): exits with the command's status. */
export async function main(argv: string[]): Promise<never> {
  try {
    process.exit(await runCli(argv, process.env, (s) => console.log(s)));
  } catch (err) {
    console.error(`tokenvault: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : err instanceof DataDirLockedError ? EXIT.dataDirLocked : 1);
  }
}

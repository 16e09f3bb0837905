/**
 * The database-side ceilings: work a vault of this design cannot avoid, done with no HTTP and no
 * vault code but its SQL, on the same database in the same run as the scenario they bound.
 */
import { createCipheriv, createHmac, createSecretKey, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import pg from 'pg';
import { GET_OR_CREATE_SQL } from '../../src/db/repositories/mappings-repository.js';
import { cpuWindow } from './measure.js';

/** rate per second; CPU per batch or query: of PostgreSQL, and (cpuUs) of this process's thread. */
export interface CeilingResult {
  rate: number;
  pgUs: number;
  hostCores: number;
  cpuUs: number;
}

const ownCpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const ROWS = 1000;
const SEP = '\u0000';

/**
 * Random bytes from one 64 KiB fill, as the vault draws them (a `randomBytes` call per IV or
 * token costs ~5 µs, as much as the encryption itself).
 */
function pooledRandom() {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let at = buf.length;
  return (k: number): Buffer => {
    if (at + k > buf.length) {
      randomFillSync(buf);
      at = 0;
    }
    at += k;
    return buf.subarray(at - k, at);
  };
}

/**
 * Batches of 1,000 through the vault's own get-or-create statement, prepared under the vault's
 * statement name, each in its own transaction, `connections` at a time. With `crypto`, every value
 * is also fingerprinted (HMAC-SHA-256) and encrypted (AES-256-GCM, AAD binding namespace, type
 * and token; the vault's ciphertext layout) in this one Node thread inside the timed window, with
 * pooled randomness: the mandatory work. Without, the crypto's outputs are random bytes made
 * before the window (the raw insert). Rows/s.
 */
export async function insertCeiling(pool: pg.Pool, o: { connections: number; batches: number; crypto: boolean }): Promise<CeilingResult> {
  const fpKey = createSecretKey(randomBytes(32));
  const dek = createSecretKey(randomBytes(32));
  const dekId = randomUUID();
  const rand = pooledRandom();
  const tag = randomBytes(4).toString('hex');
  // Plaintexts made before the window; all unique, so every row is new.
  const values = Array.from({ length: o.connections * o.batches }, (_, b) =>
    Array.from({ length: ROWS }, (_, i) => `mw${tag}b${b}i${i}@bench.example`),
  );
  const premade = o.crypto
    ? undefined
    : values.map((vs) => ({ fp: vs.map(() => randomBytes(32)), ct: vs.map((v) => randomBytes(1 + 12 + Buffer.byteLength(v) + 16)) }));
  const types: string[] = Array(ROWS).fill('email');
  const deks: string[] = Array(ROWS).fill(dekId);
  const cpu = cpuWindow();
  const own0 = ownCpuUs();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.connections }, async (_, c) => {
      const client = await pool.connect();
      try {
        for (let b = c; b < values.length; b += o.connections) {
          const vs = values[b]!;
          const tokens = vs.map(() => `${rand(9).toString('hex')}@tok.example`);
          let fp: Buffer[];
          let ct: Buffer[];
          if (premade) ({ fp, ct } = premade[b]!);
          else {
            fp = vs.map((v) => createHmac('sha256', fpKey).update(`default${SEP}email${SEP}${v}`).digest());
            ct = vs.map((v, i) => {
              const iv = rand(12);
              const cipher = createCipheriv('aes-256-gcm', dek, iv, { authTagLength: 16 });
              cipher.setAAD(Buffer.from(`tokenvault:value:v1${SEP}${JSON.stringify(['default', 'email', tokens[i]])}`));
              const body = cipher.update(v, 'utf8');
              cipher.final();
              return Buffer.concat([Buffer.of(1), iv, body, cipher.getAuthTag()]);
            });
          }
          await client.query('begin');
          await client.query({ name: 'tv_get_or_create', text: GET_OR_CREATE_SQL, values: ['default', true, types, tokens, fp, deks, ct] });
          await client.query('commit');
        }
      } finally {
        client.release();
      }
    }),
  );
  return {
    rate: (values.length * ROWS) / ((performance.now() - t0) / 1000),
    cpuUs: (ownCpuUs() - own0) / values.length,
    ...cpu(values.length),
  };
}

/**
 * Lookups by fingerprint, 1,000 keys a query, 2 connections, prepared, after ANALYZE: the read
 * half of GET_OR_CREATE_SQL. `keys` are looked up once each, in queries of 1,000. Keys/s.
 * With `viaGetOrCreate`, the same keys go through the vault's whole get-or-create statement
 * instead (new tokens and ciphertexts made before the window, every row a conflict): what the
 * one-statement design costs PostgreSQL for values already present (a diagnostic, not a ceiling).
 */
export async function lookupCeiling(pool: pg.Pool, keys: Buffer[], viaGetOrCreate = false): Promise<CeilingResult> {
  await pool.query('analyze mappings');
  const queries = Math.floor(keys.length / ROWS);
  const types: string[] = Array(ROWS).fill('email');
  const deks: string[] = Array(ROWS).fill(randomUUID());
  const extra = viaGetOrCreate
    ? Array.from({ length: queries }, () => ({
        tokens: Array.from({ length: ROWS }, () => `${randomBytes(9).toString('hex')}@tok.example`),
        ct: Array.from({ length: ROWS }, () => randomBytes(1 + 12 + 30 + 16)),
      }))
    : [];
  const cpu = cpuWindow();
  const own0 = ownCpuUs();
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async (c) => {
      for (let q = c; q < queries; q += 2) {
        const slice = keys.slice(q * ROWS, (q + 1) * ROWS);
        if (viaGetOrCreate)
          await pool.query({
            name: 'tv_get_or_create',
            text: GET_OR_CREATE_SQL,
            values: ['default', true, types, extra[q]!.tokens, slice, deks, extra[q]!.ct],
          });
        else
          await pool.query({
            name: 'bench_find_by_fingerprint',
            text: 'select id, token, fingerprint from mappings where consistent and fingerprint = any($1::bytea[])',
            values: [slice],
          });
      }
    }),
  );
  return { rate: (queries * ROWS) / ((performance.now() - t0) / 1000), cpuUs: (ownCpuUs() - own0) / Math.max(1, queries), ...cpu(queries) };
}

export interface WaitSample {
  samples: number;
  lockWaitsPerSample: number;
  maxLockWaits: number;
  events: Record<string, number>;
}

/**
 * Samples pg_stat_activity every `everyMs` on a connection of its own: for the backends of one
 * database, how many wait on a heavyweight lock (wait_event_type 'Lock'), and every wait event
 * seen with how many samples caught it.
 */
export async function sampleWaits(connectionString: string, database: string, everyMs = 20): Promise<() => Promise<WaitSample>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  let samples = 0;
  let lockWaits = 0;
  let maxLockWaits = 0;
  const events: Record<string, number> = {};
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    client
      .query<{ t: string; e: string }>(
        `select wait_event_type as t, wait_event as e from pg_stat_activity
        where datname = $1 and state = 'active' and wait_event_type is not null and pid <> pg_backend_pid()`,
        [database],
      )
      .then(
        ({ rows }) => {
          samples++;
          const locks = rows.filter((r) => r.t === 'Lock').length;
          lockWaits += locks;
          maxLockWaits = Math.max(maxLockWaits, locks);
          for (const r of rows) events[`${r.t}:${r.e}`] = (events[`${r.t}:${r.e}`] ?? 0) + 1;
        },
        () => undefined,
      )
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  return async () => {
    clearInterval(timer);
    await client.end().catch(() => undefined);
    return { samples, lockWaitsPerSample: lockWaits / Math.max(1, samples), maxLockWaits, events };
  };
}

import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Signer } from '../crypto/signing.js';
import { rows, type DbHandle, type Executor } from '../db/client.js';
import { toBuffer } from '../db/schema.js';
import { fromRaw, latestCheckpoint, type RawRow } from './audit-log.js';
import { merkleRoot } from './merkle.js';
import { checkpointBody, checkpointHash, GENESIS_PREV, macValid, rowLeaf, type Verdict } from './records.js';

/** The advisory lock that elects the one sealer among every instance on a database ('tvsl'). */
export const SEALER_LOCK = 0x7476736c;
/** Rows per checkpoint at most: a backlog is sealed in several, in one pass. */
export const SEAL_BATCH = 5000;
/** How often an instance that is not the sealer asks for the lock: the failover time. */
const ELECT_MS = 1000;

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * The audit sealer. One instance at a time holds a session-level advisory lock on a connection of
 * its own and, every tenth of the bound, seals what has committed: gives each row its seq (the
 * order), its leaf, and signs a checkpoint over them. When that instance or its connection dies,
 * PostgreSQL releases the lock and another instance takes it within ELECT_MS. The seals are
 * written on the lock's own connection, so a sealer that lost the lock cannot commit a batch.
 * (PGlite is one process's database: its sealer runs in that process, always elected.)
 */
export function createSealer(deps: { handle: DbHandle; signer: Signer; macKey: Buffer; boundMs: number; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const tickMs = Math.max(10, Math.floor(deps.boundMs / 10));
  const kid = deps.signer.publicJwk().kid;
  let ex: Executor | undefined;
  let client: pg.Client | undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let turn: Promise<unknown> = Promise.resolve();
  let log: Log | undefined;

  /** One at a time in this process: the loop and sealNow share the connection. */
  function inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const mine = turn.then(fn);
    turn = mine.catch(() => undefined);
    return mine;
  }

  function dropConnection(): Promise<void> {
    const c = client;
    client = undefined;
    if (deps.handle.kind === 'postgres') ex = undefined;
    return c ? c.end().catch(() => undefined) : Promise.resolve();
  }

  async function elect(): Promise<boolean> {
    if (ex) return true;
    if (deps.handle.kind === 'pglite') {
      ex = deps.handle.db;
      return true;
    }
    if (!client) {
      const c = new pg.Client({ ...(deps.handle.pool!.options as pg.ClientConfig), application_name: `tokenvault-sealer:${process.pid}` });
      // A lost connection releases the lock server-side; forget it here too.
      c.on('error', () => {
        if (client === c) void dropConnection();
      });
      await c.connect();
      client = c;
    }
    const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [SEALER_LOCK]);
    if (!r.rows[0]?.ok) return false;
    ex = drizzle(client) as unknown as Executor;
    log?.info({ pid: process.pid }, 'audit sealer elected');
    return true;
  }

  /**
   * Seals one batch in one REPEATABLE READ transaction, so every statement sees one snapshot S.
   * Sealed: every row visible in S, from transactions at or above the last horizon, without a
   * seal. A row that commits after S is not visible and gets a later seq, in a later checkpoint:
   * seq is the order, so nothing can join a sealed range. The new horizon is S's xmin: every
   * transaction below it had finished before S, so its rows were visible and are sealed now, and
   * no row with such an xid can appear later (see docs/architecture.md, "Audit sealing").
   */
  async function sealBatch(on: Executor): Promise<number> {
    // Two statements between begin and commit: under load, each round trip to the database is
    // what delays a seal the most.
    return on.transaction(
      async (tx) => {
        const found = await rows<
          RawRow & {
            mac: Buffer | Uint8Array | null;
            dup: boolean;
            xmin: string;
            horizon: string | null;
            last_verdict: string | null;
            max_seq: number;
          }
        >(
          tx,
          sql`
        with last as (
          select c.horizon, (select verdict from audit_seals where seq = c.last_seq) as last_verdict
          from audit_checkpoints c order by c.first_seq desc limit 1
        )
        select e.id, e.ts, e.request_id, e.actor, e.action, e.outcome, e.namespace, e.purpose, e.details, e.erasure_id, e.mac,
               exists (select 1 from audit_events o where o.mac = e.mac and o.id < e.id) as dup,
               pg_snapshot_xmin(pg_current_snapshot())::text as xmin, (select horizon::text from last) as horizon,
               (select last_verdict from last) as last_verdict, (select coalesce(max(seq), 0) from audit_seals) as max_seq
        from audit_events e
        where e.xid >= coalesce((select horizon from last), '0'::xid8) and not exists (select 1 from audit_seals s where s.event_id = e.id)
        order by e.id limit ${SEAL_BATCH}`,
        );
        if (found.length === 0) return 0;
        const last = await latestCheckpoint(tx);
        const head = found[0]!;
        // Rows without a MAC were written before sealing existed: they can only come first.
        let legacyAllowed = !last || head.last_verdict === 'legacy';
        // Past any seal inserted around the sealer too: such a seal cannot stall sealing, and verify
        // names it (no checkpoint covers it).
        const firstSeq = Math.max(last?.last ?? 0, Number(head.max_seq)) + 1;
        const ids: number[] = [];
        const seqs: number[] = [];
        const leaves: Buffer[] = [];
        const verdicts: Verdict[] = [];
        found.forEach((raw, i) => {
          const row = fromRaw(raw);
          const verdict: Verdict =
            raw.mac === null
              ? legacyAllowed
                ? 'legacy'
                : 'forged'
              : !macValid(deps.macKey, toBuffer(raw.mac), row)
                ? 'forged'
                : raw.dup
                  ? 'replayed'
                  : 'ok';
          if (verdict !== 'legacy') legacyAllowed = false;
          ids.push(row.id);
          seqs.push(firstSeq + i);
          leaves.push(rowLeaf(row, firstSeq + i, verdict));
          verdicts.push(verdict);
        });
        const body = {
          first: firstSeq,
          last: firstSeq + found.length - 1,
          root: merkleRoot(leaves).toString('hex'),
          prev: last ? checkpointHash(last) : GENESIS_PREV,
          ts: now().toISOString(),
          kid,
        };
        const signature = deps.signer.sign(checkpointBody(body));
        // A full batch may have left rows of the same transactions behind: the horizon waits.
        const nextHorizon = found.length < SEAL_BATCH ? head.xmin : (head.horizon ?? '0');
        await tx.execute(sql`with seals as (
          insert into audit_seals (event_id, seq, leaf, verdict)
          select * from unnest(${sql.param(ids)}::bigint[], ${sql.param(seqs)}::bigint[], ${sql.param(leaves)}::bytea[], ${sql.param(verdicts)}::text[])
        )
        insert into audit_checkpoints (first_seq, last_seq, root, prev, ts, kid, signature, horizon)
        values (${body.first}, ${body.last}, ${Buffer.from(body.root, 'hex')}, ${Buffer.from(body.prev, 'hex')}, ${body.ts}, ${kid}, ${signature}, ${nextHorizon}::xid8)`);
        return found.length;
      },
      { isolationLevel: 'repeatable read' },
    );
  }

  /** Seals everything committed, if this instance is the sealer; resolves with the rows sealed, or null when not elected. */
  function sealNow(): Promise<number | null> {
    return inTurn(async () => {
      if (!(await elect())) return null;
      let total = 0;
      for (;;) {
        const n = await sealBatch(ex!);
        total += n;
        if (n < SEAL_BATCH) return total;
      }
    });
  }

  async function run(): Promise<void> {
    let failing = false;
    while (running) {
      try {
        await sealNow();
        if (failing) log?.info({}, 'audit sealer recovered');
        failing = false;
      } catch (err) {
        if (!failing)
          log?.warn({ err: { type: (err as Error).name, code: (err as { code?: string }).code } }, 'audit sealing failed; retrying');
        failing = true;
        // Whatever broke, start from a fresh connection (and election): the lock may be gone.
        if (deps.handle.kind === 'postgres') await dropConnection();
      }
      if (!running) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ex ? tickMs : ELECT_MS);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  return {
    sealNow,
    /** True while this instance holds the sealer lock (or runs on PGlite). */
    isSealer: () => ex !== undefined,
    boundMs: deps.boundMs,
    start(logger?: Log): void {
      if (running) return;
      log = logger;
      running = true;
      loop = run();
    },
    async stop(): Promise<void> {
      running = false;
      wake?.();
      await loop;
      await turn;
      if (deps.handle.kind === 'postgres') await dropConnection();
      ex = undefined;
    },
  };
}

export type Sealer = ReturnType<typeof createSealer>;

import type { AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Db } from '../db/client.js';
import type { KeysRepository } from '../db/repositories/keys-repository.js';
import type { DataKeys } from './data-keys.js';

export interface KeyStatus {
  activeVersion: number;
  versions: { version: number; configured: boolean; dataKeys: number; retireSafe: boolean }[];
}

/** While traffic holds a few keys for a moment, rewrap comes back for them this often, this many times. */
const IDLE_WAIT_MS = 50;
const MAX_IDLE_ROUNDS = 200;

/** Master-key (KEK) and data-key (DEK) operations. Tokens and fingerprints never change here. */
export function createKeyManager(deps: {
  db: Db;
  keyring: Keyring;
  dataKeys: DataKeys;
  repo: KeysRepository;
  actor: string;
  auditLog: AuditLog;
}) {
  const { db, keyring, repo } = deps;

  async function remainingUnderOldVersions(active: number): Promise<number> {
    const counts = await repo.dekCountsByKekVersion();
    return [...counts].filter(([v]) => v !== active).reduce((s, [, n]) => s + n, 0);
  }

  /** One batch in one transaction with its audit row: it commits whole or rolls back whole. */
  async function rewrapBatch(batchSize: number, active: number): Promise<number> {
    return db.transaction(async (tx) => {
      // SKIP LOCKED: keys a tokenize or erasure holds right now are left for a later round,
      // instead of waiting (or deadlocking against their lock order).
      const todo = await repo.lockNotUnder({ tx, active, limit: batchSize });
      if (!todo.length) return 0;
      const from: Record<string, number> = {};
      const wrapped = todo.map((r) => {
        from[r.kekVersion] = (from[r.kekVersion] ?? 0) + 1;
        return keyring.rewrapDek(r.id, r.kekVersion, r.wrappedKey).wrapped;
      });
      await repo.setWrapped({ tx, kekVersion: active, ids: todo.map((r) => r.id), wrapped });
      await deps.auditLog.append(tx, [
        {
          actor: deps.actor,
          action: 'keys.rewrap',
          outcome: 'success',
          details: { toVersion: active, fromVersions: from, dataKeys: todo.length },
        },
      ]);
      return todo.length;
    });
  }

  return {
    async status(): Promise<KeyStatus> {
      const counts = await repo.dekCountsByKekVersion();
      const versions = [...new Set([...keyring.kekVersions, ...counts.keys()])].sort((a, b) => a - b);
      return {
        activeVersion: keyring.activeKekVersion,
        versions: versions.map((v) => {
          const n = counts.get(v) ?? 0;
          return {
            version: v,
            configured: keyring.kekVersions.includes(v),
            dataKeys: n,
            retireSafe: n === 0 && v !== keyring.activeKekVersion,
          };
        }),
      };
    },

    /**
     * Re-wraps every DEK not under the active KEK, online, in batches that commit on their own: a
     * crash loses at most the batch in flight (which rolls back whole), and a re-run continues
     * with what is left. Nothing is wrapped twice: a batch only takes keys still under old versions.
     */
    async rewrap(
      opts: { batchSize?: number; maxBatches?: number; onBatch?: (n: number) => void } = {},
    ): Promise<{ rewrapped: number; remaining: number }> {
      const batchSize = opts.batchSize ?? 500;
      const active = keyring.activeKekVersion;
      let rewrapped = 0;
      let idleRounds = 0;
      for (let batch = 0; opts.maxBatches === undefined || batch < opts.maxBatches;) {
        const n = await rewrapBatch(batchSize, active);
        if (n > 0) {
          batch++;
          rewrapped += n;
          idleRounds = 0;
          opts.onBatch?.(n);
          continue;
        }
        // Nothing unlocked was left: done, unless keys were skipped because traffic held them.
        if ((await remainingUnderOldVersions(active)) === 0 || ++idleRounds > MAX_IDLE_ROUNDS) break;
        await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
      }
      return { rewrapped, remaining: await remainingUnderOldVersions(active) };
    },

    /** A new DEK for a namespace: new values use it (every instance within 30 s); old ones keep theirs. */
    async rotateNamespaceDek(namespace: string): Promise<string> {
      return db.transaction(async (tx) => {
        const id = await deps.dataKeys.rotateNamespaceDek(tx, namespace);
        await deps.auditLog.append(tx, [
          {
            actor: deps.actor,
            action: 'keys.rotate_dek',
            outcome: 'success',
            namespace,
            details: { dataKeyId: id, kekVersion: keyring.activeKekVersion },
          },
        ]);
        return id;
      });
    },
  };
}

export type KeyManager = ReturnType<typeof createKeyManager>;

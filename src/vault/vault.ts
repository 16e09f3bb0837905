import { sql } from 'drizzle-orm';
import type { AuditEvent } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Signer } from '../crypto/signing.js';
import type { Db } from '../db/client.js';
import { errors } from '../errors.js';
import type { RandomSource } from '../formats/random.js';
import { createAuditWriter } from './audit-writer.js';
import type { RevealBudget } from './budget.js';
import { createDataKeys } from './data-keys.js';
import { createDetokenizer } from './detokenize.js';
import { createEraser } from './erase.js';
import { createExporter } from './export.js';
import type { Namespace, Policy } from './policy.js';
import { mayUseNamespace, type Principal } from './principal.js';
import { createTokenCache } from './token-cache.js';
import { createTokenizer } from './tokenize.js';

/** How often each instance looks for erasures made elsewhere (keeps its cache's epoch current). */
export const ERASURE_POLL_MS = 500;

/** The domain services, wired once per app. Routes call only this. */
export function createVault(deps: { db: Db; keyring: Keyring; policy: Policy; rng: RandomSource; budget: RevealBudget; signer: Signer }) {
  const dataKeys = createDataKeys({ db: deps.db, keyring: deps.keyring });
  const cache = createTokenCache();
  /** A new erasure head (from this instance's erasure, the watcher or a tokenize transaction). */
  const sawErasureHead = (head: number) => {
    // Destroyed subject keys must not outlive their rows in this process either.
    if (cache.advance(head)) dataKeys.forget();
  };
  const eraser = createEraser({ db: deps.db, keyring: deps.keyring, signer: deps.signer, dataKeys, rng: deps.rng, onErased: sawErasureHead });
  const auditWriter = createAuditWriter({ db: deps.db, budget: deps.budget });
  const exporter = createExporter({ db: deps.db, keyring: deps.keyring, dataKeys, audit: auditWriter });
  let timer: NodeJS.Timeout | undefined;

  /**
   * Keeps this instance's cache in the current erasure epoch, so that tokenize transactions rarely
   * find the head moved. Correctness does not depend on it: each transaction checks the head itself.
   */
  async function checkErasures(): Promise<void> {
    try {
      sawErasureHead(await eraser.latestSeq());
    } catch {
      // Database unreachable: we cannot know what was erased, so forget everything.
      cache.reset();
      dataKeys.forget();
    }
  }
  const tokenizer = createTokenizer({ db: deps.db, keyring: deps.keyring, dataKeys, rng: deps.rng, cache, sawErasureHead });
  const detokenizer = createDetokenizer({ db: deps.db, dataKeys, audit: auditWriter, keyring: deps.keyring });

  return {
    policy: deps.policy,
    dataKeys,
    cache,
    tokenize: tokenizer.tokenize,
    detokenize: detokenizer.detokenize,
    erase: eraser.erase,
    receipt: eraser.receipt,
    erasureFeed: eraser.feed,
    exportSubject: exporter.exportSubject,
    publicKey: () => deps.signer.publicJwk(),

    async startWatching(): Promise<void> {
      await checkErasures();
      timer = setInterval(() => void checkErasures(), ERASURE_POLL_MS);
      timer.unref();
    },
    stopWatching(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },

    /** The namespace a principal asked for: 404 when it does not exist, 403 when not granted. */
    namespace(principal: Principal, name: string | undefined): Namespace {
      const n = name ?? 'default';
      const ns = deps.policy.get(n);
      if (!ns) throw errors.namespaceNotFound();
      if (!mayUseNamespace(principal, n)) throw errors.forbidden(`namespace ${n} is not granted to this principal`);
      return ns;
    },

    /** An audit record on its own (auth failures, admin actions without another state change). */
    audit: (events: AuditEvent[]): Promise<void> => auditWriter.commit({ events }),

    async ping(): Promise<void> {
      await deps.db.execute(sql`select 1`);
    },
  };
}

export type Vault = ReturnType<typeof createVault>;

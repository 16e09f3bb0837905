import { sql } from 'drizzle-orm';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
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

/** How often each instance checks for erasures made elsewhere (the cache bound is well under 1 s). */
export const ERASURE_POLL_MS = 500;

/** The domain services, wired once per app. Routes call only this. */
export function createVault(deps: { db: Db; keyring: Keyring; policy: Policy; rng: RandomSource; budget: RevealBudget; signer: Signer; auditLog: AuditLog; auditSigner: Signer }) {
  const dataKeys = createDataKeys({ db: deps.db, keyring: deps.keyring });
  const cache = createTokenCache();
  const forgetCaches = () => {
    cache.clear();
    dataKeys.forget();
  };
  const eraser = createEraser({ db: deps.db, keyring: deps.keyring, signer: deps.signer, auditLog: deps.auditLog, onErased: forgetCaches });
  const auditWriter = createAuditWriter({ db: deps.db, budget: deps.budget, auditLog: deps.auditLog });
  const exporter = createExporter({ db: deps.db, keyring: deps.keyring, dataKeys, audit: auditWriter });
  let lastSeq: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** Clears this instance's caches when any instance has erased something since the last look. */
  async function checkErasures(): Promise<void> {
    try {
      const seq = await eraser.latestSeq();
      if (lastSeq !== undefined && seq !== lastSeq) forgetCaches();
      lastSeq = seq;
    } catch {
      // Database unreachable: we cannot know what was erased, so forget everything.
      forgetCaches();
      lastSeq = undefined;
    }
  }
  const tokenizer = createTokenizer({ db: deps.db, keyring: deps.keyring, dataKeys, rng: deps.rng, cache, auditLog: deps.auditLog });
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
    /** The Ed25519 key (JWK) that verifies audit checkpoints. */
    auditPublicKey: () => deps.auditSigner.publicJwk(),

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

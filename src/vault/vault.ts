import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Signer } from '../crypto/signing.js';
import { ping, type Db } from '../db/client.js';
import type { Repositories } from '../db/repositories/index.js';
import { errors } from '../errors.js';
import type { RandomSource } from '../crypto/random.js';
import { createAuditWriter } from './audit-writer.js';
import type { RevealBudget } from './budget.js';
import { createDataKeys } from './data-keys.js';
import { createDetokenizer } from './detokenize.js';
import { createEraser, type ErasureRequest, type ErasureTarget } from './erase.js';
import { createExporter } from './export.js';
import type { Namespace, Policy } from './policy.js';
import { mayUseNamespace, type Principal } from './principal.js';
import { createTokenCache } from './token-cache.js';
import { createTokenizer, type TokenizeArgs } from './tokenize.js';
import type { Detokenizer } from './detokenize.js';

/** How often each instance checks for erasures made elsewhere (the cache bound is well under 1 s). */
export const ERASURE_POLL_MS = 500;

/**
 * The domain services, wired among themselves once per app (services.ts hands in the parts built
 * from configuration). Routes call only this: it resolves namespaces and erasure targets, so each
 * route makes one call.
 */
export function createVault(deps: { db: Db; repos: Repositories; keyring: Keyring; policy: Policy; rng: RandomSource; budget: RevealBudget; signer: Signer; auditLog: AuditLog; auditSigner: Signer }) {
  const { repos } = deps;
  const dataKeys = createDataKeys({ db: deps.db, keyring: deps.keyring, repo: repos.dataKeys });
  const cache = createTokenCache();
  const forgetCaches = () => {
    cache.clear();
    dataKeys.forget();
  };
  const eraser = createEraser({ db: deps.db, keyring: deps.keyring, signer: deps.signer, repo: repos.erasures, auditLog: deps.auditLog, onErased: forgetCaches });
  const auditWriter = createAuditWriter({ db: deps.db, budget: deps.budget, auditLog: deps.auditLog });
  const exporter = createExporter({ subjectLinks: repos.subjectLinks, keyring: deps.keyring, dataKeys, audit: auditWriter });
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
  const tokenizer = createTokenizer({ db: deps.db, keyring: deps.keyring, dataKeys, mappings: repos.mappings, subjectLinks: repos.subjectLinks, rng: deps.rng, cache, auditLog: deps.auditLog });
  const detokenizer = createDetokenizer({ mappings: repos.mappings, erasures: repos.erasures, dataKeys, audit: auditWriter, keyring: deps.keyring });

  /** The namespace a principal asked for: 404 when it does not exist, 403 when not granted. */
  function namespace(principal: Principal, name: string | undefined): Namespace {
    const n = name ?? 'default';
    const ns = deps.policy.get(n);
    if (!ns) throw errors.namespaceNotFound();
    if (!mayUseNamespace(principal, n)) throw errors.forbidden(`namespace ${n} is not granted to this principal`);
    return ns;
  }

  /** What an erasure request names, checked against what the principal may erase. */
  function erasureTarget(principal: Principal, r: ErasureRequest): ErasureTarget {
    if ('subject' in r) {
      // A subject's key spans namespaces: only a principal for all namespaces may destroy it.
      if (!principal.namespaces.includes('*')) throw errors.forbidden('erasing a subject needs ns ["*"]');
      return { method: 'subject', subject: r.subject };
    }
    if ('tokens' in r) return { method: 'tokens', ns: namespace(principal, r.namespace), tokens: r.tokens };
    return { method: 'value', ns: namespace(principal, r.namespace), type: r.type, value: r.value };
  }

  type Named<A extends { ns: Namespace }> = Omit<A, 'ns'> & { namespace: string | undefined };

  return {
    policy: deps.policy,
    dataKeys,
    /** This instance's token cache (the tests watch what enters it). */
    cache,
    /** Tokenizes in the namespace asked for (resolved and checked here). */
    tokenize: (args: Named<TokenizeArgs>) => tokenizer.tokenize({ ...args, ns: namespace(args.principal, args.namespace) }),
    detokenize: (args: Named<Parameters<Detokenizer['detokenize']>[0]>) => detokenizer.detokenize({ ...args, ns: namespace(args.principal, args.namespace) }),
    erase: (args: { principal: Principal; request: ErasureRequest; reference?: string | undefined; requestId: string }) =>
      eraser.erase({ principal: args.principal, target: erasureTarget(args.principal, args.request), reference: args.reference, requestId: args.requestId }),
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

    /** An audit record on its own (auth failures, admin actions without another state change). */
    audit: (events: AuditEvent[]): Promise<void> => auditWriter.commit({ events }),

    /** Resolves when the database answers. */
    ping: (): Promise<void> => ping(deps.db),
  };
}

export type Vault = ReturnType<typeof createVault>;

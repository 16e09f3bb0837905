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
import type { VaultMetrics } from './metrics.js';
import { createTokenizer, type TokenizeArgs } from './tokenize.js';
import type { Detokenizer } from './detokenize.js';

/** How often each instance checks for erasures made elsewhere (the cache bound is well under 1 s). */
export const ERASURE_POLL_MS = 500;

/**
 * The domain services, wired among themselves once per app (services.ts hands in the parts built
 * from configuration). Routes call only this: it resolves namespaces and erasure targets, so each
 * route makes one call.
 */
export function createVault(deps: {
  db: Db;
  repos: Repositories;
  keyring: Keyring;
  policy: Policy;
  rng: RandomSource;
  budget: RevealBudget;
  signer: Signer;
  auditLog: AuditLog;
  auditSigner: Signer;
  metrics?: VaultMetrics;
}) {
  const { repos } = deps;
  const dataKeys = createDataKeys({ db: deps.db, keyring: deps.keyring, repo: repos.dataKeys });
  const cache = createTokenCache();
  /** A new erasure head (from this instance's erasure, the watcher or a tokenize transaction). */
  const sawErasureHead = (head: number) => {
    // Destroyed subject keys must not outlive their rows in this process either.
    if (cache.advance(head)) dataKeys.forget();
  };
  const eraser = createEraser({
    db: deps.db,
    keyring: deps.keyring,
    signer: deps.signer,
    repo: repos.erasures,
    subjectLinks: repos.subjectLinks,
    dataKeys,
    rng: deps.rng,
    auditLog: deps.auditLog,
    onErased: sawErasureHead,
  });
  const auditWriter = createAuditWriter({ db: deps.db, budget: deps.budget, auditLog: deps.auditLog });
  const exporter = createExporter({ subjectLinks: repos.subjectLinks, keyring: deps.keyring, dataKeys, audit: auditWriter });
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
  const tokenizer = createTokenizer({
    db: deps.db,
    keyring: deps.keyring,
    dataKeys,
    mappings: repos.mappings,
    subjectLinks: repos.subjectLinks,
    erasures: repos.erasures,
    rng: deps.rng,
    cache,
    sawErasureHead,
    auditLog: deps.auditLog,
  });
  const detokenizer = createDetokenizer({
    mappings: repos.mappings,
    erasures: repos.erasures,
    dataKeys,
    audit: auditWriter,
    keyring: deps.keyring,
  });

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
    async tokenize(args: Named<TokenizeArgs>) {
      const ns = namespace(args.principal, args.namespace);
      const results = await tokenizer.tokenize({ ...args, ns });
      deps.metrics?.tokenized(args.principal, ns.name, results);
      return results;
    },
    async detokenize(args: Named<Parameters<Detokenizer['detokenize']>[0]>) {
      const ns = namespace(args.principal, args.namespace);
      try {
        const results = await detokenizer.detokenize({ ...args, ns });
        deps.metrics?.revealed(args.principal, ns.name, results);
        return results;
      } catch (err) {
        deps.metrics?.refused(ns.name, args.tokens.length, err);
        throw err;
      }
    },
    async erase(args: { principal: Principal; request: ErasureRequest; reference?: string | undefined; requestId: string }) {
      const receipt = await eraser.erase({
        principal: args.principal,
        target: erasureTarget(args.principal, args.request),
        reference: args.reference,
        requestId: args.requestId,
      });
      deps.metrics?.erased(receipt.method, receipt.tokensErased);
      return receipt;
    },
    receipt: eraser.receipt,
    erasureFeed: eraser.feed,
    /** The newest erasure's feed position (metrics). */
    erasureHead: () => eraser.latestSeq(),
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

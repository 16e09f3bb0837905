import { createPublicKey } from 'node:crypto';
import buildGetJwks from 'get-jwks';
import { VerificationError } from './vault-jwt.js';

/** Where an issuer's public keys come from. */
export type KeySource = { kind: 'discovery' } | { kind: 'jwks-url'; url: string } | { kind: 'static'; keys: ReadonlyMap<string, string> };

export interface KeyLookupOptions {
  /** How long a fetched key is used before it is fetched again (and then kept as stale). */
  cacheSeconds: number;
  /** At most one fetch for an unknown `kid` per this many seconds, per issuer. */
  unknownKidCooldownSeconds: number;
  now?: () => number;
}

/** A JWK as a PEM public key, the form fast-jwt takes. */
export function jwkToPem(jwk: Record<string, unknown>): string {
  return createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
}

/**
 * An issuer's keys, by `kid`. Remote keys come through get-jwks (Fastify org): cached for
 * cacheSeconds, and served from its stale copy when a refresh fails, so an IdP that is down does
 * not stop tokens signed with keys already seen. Keys not in the cache are fetched at most
 * FETCHES_PER_COOLDOWN times per cool-down: a made-up kid in every request must not make the vault
 * fetch per request.
 */
export function createKeyLookup(issuer: string, source: KeySource, opts: KeyLookupOptions) {
  const now = opts.now ?? Date.now;
  if (source.kind === 'static') {
    return async (kid: string | undefined): Promise<string> => {
      const key = kid ? source.keys.get(kid) : source.keys.size === 1 ? [...source.keys.values()][0] : undefined;
      if (!key) throw new VerificationError('unknown_key');
      return key;
    };
  }
  // get-jwks builds its URLs from a "domain": the issuer for discovery, else the JWKS URL's origin
  // with its path as jwksPath.
  const url = source.kind === 'jwks-url' ? new URL(source.url) : undefined;
  const domain = url ? `${url.origin}/` : issuer.endsWith('/') ? issuer : `${issuer}/`;
  const getJwks = buildGetJwks({
    ttl: opts.cacheSeconds * 1000,
    providerDiscovery: source.kind === 'discovery',
    ...(url ? { jwksPath: `${url.pathname}${url.search}` } : {}),
  });
  /** The last key fetched per kid: what is served while the IdP cannot be reached. */
  const lastGood = new Map<string, string>();
  const inflight = new Map<string, Promise<string>>();
  let windowStart = -Infinity;
  let fetchesInWindow = 0;

  return async (kid: string | undefined, alg: string | undefined): Promise<string> => {
    if (!kid || !alg) throw new VerificationError('unknown_key');
    let pending = inflight.get(kid);
    if (!pending) {
      const stale = lastGood.get(kid);
      // A fresh cached key costs nothing; anything else means a fetch. get-jwks caches the one
      // kid it was asked for, so an IdP signing with several keys needs a fetch for each: a few
      // per cool-down, and no more whatever the kids asked for.
      if (getJwks.cache.get(getJwks.generateCacheKey(alg, kid, domain)) === undefined) {
        if (now() - windowStart >= opts.unknownKidCooldownSeconds * 1000) {
          windowStart = now();
          fetchesInWindow = 0;
        }
        if (fetchesInWindow >= FETCHES_PER_COOLDOWN) {
          if (stale) return stale;
          throw new VerificationError('unknown_key');
        }
        fetchesInWindow++;
      }
      pending = withTimeout(getJwks.getJwk({ domain, alg, kid }), FETCH_TIMEOUT_MS).then((jwk) =>
        jwkToPem(jwk as unknown as Record<string, unknown>),
      );
      inflight.set(kid, pending);
      void pending.finally(() => inflight.delete(kid)).catch(() => undefined);
    }
    try {
      const pem = await pending;
      lastGood.set(kid, pem);
      return pem;
    } catch {
      const stale = lastGood.get(kid);
      if (stale) return stale;
      throw new VerificationError('unknown_key');
    }
  };
}

/** Key fetches an issuer may cause per cool-down (a kid per fetch): room for a few keys in use. */
export const FETCHES_PER_COOLDOWN = 4;

/** A key fetch that takes longer fails the request (fail closed) rather than holding it. */
const FETCH_TIMEOUT_MS = 5_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('key fetch timed out')), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export type KeyLookup = ReturnType<typeof createKeyLookup>;

import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { SCOPE_PATTERN, type Principal } from '../vault/principal.js';

export const DEFAULT_TTL_SECONDS = 15 * 60;
/** dev-token's longest lifetime; development tokens are refused in production whatever it is. */
export const MAX_DEV_TTL_SECONDS = 30 * 86_400;

export interface VaultTokenClaims {
  sub: string;
  scope: string;
  ns: string[];
  /** `client`: issued at /v1/auth/token to an active client. Absent or `dev`: a development token. */
  kind?: 'client' | 'dev';
}

/**
 * Signs the vault's HS256 JWTs outside the app (dev-token, tests, bench) with fast-jwt, the
 * library @fastify/jwt wraps; the app signs and verifies through @fastify/jwt (plugins/auth.ts).
 */
export function createVaultJwt(opts: { secret: Buffer; issuer: string; audience: string }) {
  const sign = createSigner({ key: opts.secret, algorithm: 'HS256', iss: opts.issuer, aud: opts.audience });
  return {
    sign(claims: VaultTokenClaims, ttlSeconds = DEFAULT_TTL_SECONDS): string {
      const now = Math.floor(Date.now() / 1000);
      return sign({ ...claims, jti: randomUUID(), iat: now, exp: now + ttlSeconds });
    },
    /** The signature check alone, as the app's verifier makes it (the benchmark's HS256 figure). */
    verify: createVerifier({ key: opts.secret, algorithms: ['HS256'], allowedIss: opts.issuer, allowedAud: opts.audience }),
  };
}

export type VaultJwt = ReturnType<typeof createVaultJwt>;

export class VerificationError extends Error {
  constructor(readonly reason: string) {
    super(`token rejected: ${reason}`);
    this.name = 'VerificationError';
  }
}

export function reasonOf(err: unknown): string {
  if (!(err instanceof TokenError)) return 'invalid_token';
  switch (err.code) {
    case TokenError.codes.expired:
      return 'expired';
    case TokenError.codes.inactive:
      return 'not_yet_valid';
    case TokenError.codes.invalidSignature:
      return 'bad_signature';
    case TokenError.codes.invalidAlgorithm:
      return 'algorithm_not_allowed';
    case TokenError.codes.missingSignature:
      return 'unsigned';
    case TokenError.codes.malformed:
    case TokenError.codes.invalidType:
      return 'malformed';
    case TokenError.codes.invalidClaimValue:
      return 'wrong_issuer_or_audience';
    case TokenError.codes.missingRequiredClaim:
    case TokenError.codes.invalidClaimType:
      return 'missing_claim';
    case TokenError.codes.missingKey:
      return 'unknown_key';
    default:
      return 'invalid_token';
  }
}

/**
 * Printable text only: NUL (PostgreSQL text cannot hold it), controls, bidi overrides and
 * surrogates (a lone one cannot be stored as jsonb) never reach an audit row as an actor.
 */
// eslint-disable-next-line no-control-regex -- the control characters are what it refuses
const SAFE_TEXT = /^[^\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]{1,200}$/;
const NAMESPACE = /^(\*|[a-z0-9][a-z0-9_-]{0,62})$/;

/** A claim string fit to become an actor or a namespace: else the token is refused (invalid_claim). */
export function safeClaim(value: unknown): string {
  if (typeof value !== 'string' || !SAFE_TEXT.test(value)) throw new VerificationError('invalid_claim');
  return value;
}

/** Known scopes of a space-separated string or an array; others are dropped: a typo grants nothing. */
export function scopesOf(raw: unknown): Set<string> {
  const list = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw : [];
  return new Set(list.filter((s): s is string => typeof s === 'string' && SCOPE_PATTERN.test(s)));
}

/** A namespaces claim: a list of namespace names (or '*'); anything else refuses the token. */
export function namespacesOf(raw: unknown, fallback: readonly string[]): string[] {
  if (raw === undefined) return [...fallback];
  if (!Array.isArray(raw) || raw.length > 64 || raw.some((n) => typeof n !== 'string' || !NAMESPACE.test(n)))
    throw new VerificationError('invalid_claim');
  return raw as string[];
}

/** The principal of a verified vault token, before the checks that depend on its kind. */
export function principalFromClaims(p: Record<string, unknown>): Principal {
  return { id: safeClaim(p.sub), kind: 'client', scopes: scopesOf(p.scope), namespaces: namespacesOf(p.ns, ['default']) };
}

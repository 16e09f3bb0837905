import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { SCOPE_PATTERN, type Principal } from '../vault/principal.js';

export const DEFAULT_TTL_SECONDS = 15 * 60;

export interface VaultTokenClaims {
  sub: string;
  scope: string;
  ns: string[];
  kind?: 'client' | 'dev';
  /** The client's reveal budget per window, when it has its own. */
  budget?: number;
}

/** Signs and verifies the vault's own HS256 JWTs (client credentials grant, dev-token). */
export function createVaultJwt(opts: { secret: Buffer; issuer: string; audience: string }) {
  const sign = createSigner({ key: opts.secret, algorithm: 'HS256', iss: opts.issuer, aud: opts.audience });
  const verify = createVerifier({
    key: opts.secret,
    algorithms: ['HS256'],
    allowedIss: opts.issuer,
    allowedAud: opts.audience,
    requiredClaims: ['exp', 'iat', 'sub', 'scope'],
    cache: 10_000,
  });
  return {
    sign(claims: VaultTokenClaims, ttlSeconds = DEFAULT_TTL_SECONDS): string {
      const now = Math.floor(Date.now() / 1000);
      return sign({ ...claims, jti: randomUUID(), iat: now, exp: now + ttlSeconds });
    },
    /** Throws VerificationError with a reason code; never echoes the token. */
    verify(token: string): Principal {
      let payload: Record<string, unknown>;
      try {
        payload = verify(token) as Record<string, unknown>;
      } catch (err) {
        throw new VerificationError(reasonOf(err));
      }
      return principalFromClaims(payload, 'client');
    },
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
    case TokenError.codes.expired: return 'expired';
    case TokenError.codes.inactive: return 'not_yet_valid';
    case TokenError.codes.invalidSignature: return 'bad_signature';
    case TokenError.codes.invalidAlgorithm: return 'algorithm_not_allowed';
    case TokenError.codes.missingSignature: return 'unsigned';
    case TokenError.codes.malformed: case TokenError.codes.invalidType: return 'malformed';
    case TokenError.codes.invalidClaimValue: return 'wrong_issuer_or_audience';
    case TokenError.codes.missingRequiredClaim: case TokenError.codes.invalidClaimType: return 'missing_claim';
    case TokenError.codes.missingKey: return 'unknown_key';
    default: return 'invalid_token';
  }
}

/** Scopes outside the known set are dropped: a typo never grants anything. */
export function principalFromClaims(p: Record<string, unknown>, kind: Principal['kind']): Principal {
  const scopeText = typeof p.scope === 'string' ? p.scope : Array.isArray(p.scope) ? p.scope.join(' ') : '';
  const scopes = new Set(scopeText.split(/\s+/).filter((s) => SCOPE_PATTERN.test(s)));
  const ns = Array.isArray(p.ns) ? p.ns.filter((n): n is string => typeof n === 'string') : ['default'];
  if (typeof p.sub !== 'string' || p.sub.length === 0 || p.sub.length > 200) throw new VerificationError('missing_claim');
  const budget = typeof p.budget === 'number' && Number.isInteger(p.budget) && p.budget >= 0 ? { revealBudget: p.budget } : {};
  return { id: p.sub, kind, scopes, namespaces: ns, ...budget };
}

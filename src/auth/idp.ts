import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { parse as parseYaml } from 'yaml';
import { SCOPE_PATTERN, type Principal } from '../vault/principal.js';
import { violatesSeparationOfDuties } from './grants.js';
import { namespacesOf, safeClaim, scopesOf, VerificationError } from './vault-jwt.js';

/** The company IdP's configuration: who issues staff tokens, with which keys, carrying what. */
export interface IdpConfig {
  issuer: string;
  audience: string;
  /** Claim holding scopes (space-separated string or array). */
  scopeClaim: string;
  /** Claim holding group names, mapped to scopes by groupScopes. */
  groupsClaim: string;
  groupScopes: Record<string, string[]>;
  /** Reveal budget per group (the largest of a principal's groups applies). */
  groupBudgets: Record<string, number>;
  /**
   * Budget of a staff token carrying no group with a budget; default: the smallest group budget
   * (so leaving groups out of a token never buys more reveals), else the vault's default.
   */
  defaultBudget: number | undefined;
  namespacesClaim: string;
  /** Namespaces when the token carries none. */
  defaultNamespaces: string[];
}

export class IdpConfigError extends Error {
  readonly code = 'IDP_CONFIG_INVALID';
}

const ALGORITHMS = ['RS256', 'ES256'];

function fail(msg: string): never {
  throw new IdpConfigError(`TOKENVAULT_IDP_CONFIG: ${msg}`);
}

/** Reads the IdP file (YAML or JSON). Keys: `jwks` (a JWKS file) or `publicKeys` ([{ kid, pem }], PEM files). */
export function loadIdp(path: string): { config: IdpConfig; keys: JWTVerifyGetKey } {
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    fail(`cannot read ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object') fail('must be an object');
  const str = (k: string, def?: string): string => {
    const v = doc[k] ?? def;
    if (typeof v !== 'string' || !v) fail(`${k} must be a non-empty string`);
    return v;
  };
  const rel = (p: string) => resolve(dirname(path), p);
  const groupScopes = (doc.groupScopes ?? {}) as Record<string, string[]>;
  for (const [g, scopes] of Object.entries(groupScopes)) {
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !SCOPE_PATTERN.test(s))) fail(`groupScopes.${g} must be a list of known scopes`);
    if (violatesSeparationOfDuties(scopes)) fail(`groupScopes.${g}: tokenize together with detokenize scopes breaks separation of duties`);
  }
  const groupBudgets = (doc.groupBudgets ?? {}) as Record<string, number>;
  for (const [g, n] of Object.entries(groupBudgets)) if (!Number.isInteger(n) || n < 0) fail(`groupBudgets.${g} must be a whole number`);
  if (doc.defaultBudget !== undefined && !(Number.isInteger(doc.defaultBudget) && (doc.defaultBudget as number) >= 0)) fail('defaultBudget must be a whole number');
  const budgets = Object.values(groupBudgets);
  const config: IdpConfig = {
    issuer: str('issuer'),
    audience: str('audience'),
    scopeClaim: str('scopeClaim', 'scope'),
    groupsClaim: str('groupsClaim', 'groups'),
    groupScopes,
    groupBudgets,
    defaultBudget: (doc.defaultBudget as number | undefined) ?? (budgets.length ? Math.min(...budgets) : undefined),
    namespacesClaim: str('namespacesClaim', 'ns'),
    defaultNamespaces: Array.isArray(doc.defaultNamespaces) ? (doc.defaultNamespaces as string[]) : ['default'],
  };
  let keys: JWTVerifyGetKey;
  if (typeof doc.jwks === 'string') {
    const jwks = JSON.parse(readFileSync(rel(doc.jwks), 'utf8')) as { keys?: unknown[] };
    if (!Array.isArray(jwks.keys) || !jwks.keys.length) fail('jwks must name a JWKS file with at least one key');
    keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  } else if (Array.isArray(doc.publicKeys) && doc.publicKeys.length) {
    const byKid = new Map<string, KeyObject>();
    for (const k of doc.publicKeys as { kid?: string; pem?: string }[]) {
      if (!k.kid || !k.pem) fail('publicKeys entries need kid and pem (a file path)');
      byKid.set(k.kid, createPublicKey(readFileSync(rel(k.pem), 'utf8')));
    }
    keys = async (header) => {
      const key = header.kid ? byKid.get(header.kid) : byKid.size === 1 ? [...byKid.values()][0] : undefined;
      if (!key) throw new joseErrors.JWKSNoMatchingKey();
      return key;
    };
  } else {
    fail('give jwks (a JWKS file) or publicKeys ([{ kid, pem }])');
  }
  return { config, keys };
}

function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not_yet_valid';
    if (err.claim === 'iss' || err.claim === 'aud') return 'wrong_issuer_or_audience';
    return 'missing_claim';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'unknown_key';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  return 'malformed';
}

/**
 * Maps verified IdP claims to a principal. Claims are checked as the vault's own are (a sub with
 * NUL or a lone surrogate is refused, not stored); staff never get `admin` (it belongs to the
 * CLI's clients), and a mapping that yields tokenize with a detokenize scope is refused.
 */
function principalOf(config: IdpConfig, payload: JWTPayload): Principal {
  const sub = safeClaim(payload.sub);
  const scopes = scopesOf(payload[config.scopeClaim]);
  const rawGroups = payload[config.groupsClaim];
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === 'string') : [];
  for (const g of groups) for (const s of config.groupScopes[g] ?? []) scopes.add(s);
  scopes.delete('admin');
  if (violatesSeparationOfDuties(scopes)) throw new VerificationError('separation_of_duties');
  // The limit comes from the configuration's group mapping, never from a claim of its own.
  const budgets = groups.map((g) => config.groupBudgets[g]).filter((n): n is number => n !== undefined);
  const revealBudget = budgets.length ? Math.max(...budgets) : config.defaultBudget;
  return {
    id: `idp:${sub}`,
    kind: 'staff',
    scopes,
    namespaces: namespacesOf(payload[config.namespacesClaim], config.defaultNamespaces),
    ...(revealBudget !== undefined ? { revealBudget } : {}),
  };
}

/** Verifies a staff token: RS256/ES256 only, issuer and audience required, exp required. */
export function createIdpVerifier(config: IdpConfig, keys: JWTVerifyGetKey) {
  return {
    issuer: config.issuer,
    async verify(token: string): Promise<Principal> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, { issuer: config.issuer, audience: config.audience, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] }));
      } catch (err) {
        throw new VerificationError(reasonOf(err));
      }
      return principalOf(config, payload);
    },
  };
}

export type IdpVerifier = ReturnType<typeof createIdpVerifier>;

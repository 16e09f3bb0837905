import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createKeyLookup, jwkToPem, type KeyLookup, type KeySource } from './idp-keys.js';
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

/** Staff tokens are signed with the IdP's private keys: never HS*, never none. */
export const IDP_ALGORITHMS = ['RS256', 'ES256'];

function fail(msg: string): never {
  throw new IdpConfigError(`TOKENVAULT_IDP_CONFIG: ${msg}`);
}

/** One issuer of staff tokens: its configuration and the lookup of its public keys by kid. */
export interface IdpIssuer {
  config: IdpConfig;
  keyFor: KeyLookup;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Where the keys come from: a JWKS URL or file, PEM files, else the issuer's OIDC discovery. */
function keySource(doc: Record<string, unknown>, issuer: string, rel: (p: string) => string): KeySource {
  const jwks = doc.jwksUri ?? doc.jwks;
  if (typeof jwks === 'string' && isUrl(jwks)) return { kind: 'jwks-url', url: jwks };
  if (typeof jwks === 'string') {
    let set: { keys?: Record<string, unknown>[] };
    try {
      set = JSON.parse(readFileSync(rel(jwks), 'utf8')) as typeof set;
    } catch (err) {
      fail(`jwks: cannot read ${jwks} (${(err as NodeJS.ErrnoException).code ?? 'not JSON'}); give a file or an https:// URL`);
    }
    if (!Array.isArray(set.keys) || !set.keys.length) fail('jwks must name a JWKS with at least one key');
    return { kind: 'static', keys: new Map(set.keys.map((k) => [String(k.kid ?? ''), jwkToPem(k)])) };
  }
  if (Array.isArray(doc.publicKeys) && doc.publicKeys.length) {
    const keys = new Map<string, string>();
    for (const k of doc.publicKeys as { kid?: string; pem?: string }[]) {
      if (!k.kid || !k.pem) fail('publicKeys entries need kid and pem (a file path)');
      keys.set(k.kid, createPublicKey(readFileSync(rel(k.pem), 'utf8')).export({ type: 'spki', format: 'pem' }) as string);
    }
    return { kind: 'static', keys };
  }
  if (doc.discovery === false || !isUrl(issuer))
    fail('give jwks (a JWKS URL or file), publicKeys ([{ kid, pem }]), or an https:// issuer for OIDC discovery');
  return { kind: 'discovery' };
}

function issuerOf(doc: Record<string, unknown>, rel: (p: string) => string, now?: () => number): IdpIssuer {
  const str = (k: string, def?: string): string => {
    const v = doc[k] ?? def;
    if (typeof v !== 'string' || !v) fail(`${k} must be a non-empty string`);
    return v;
  };
  const whole = (k: string, def: number): number => {
    const v = doc[k] ?? def;
    if (!Number.isInteger(v) || (v as number) < 0) fail(`${k} must be a whole number`);
    return v as number;
  };
  const groupScopes = (doc.groupScopes ?? {}) as Record<string, string[]>;
  for (const [g, scopes] of Object.entries(groupScopes)) {
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !SCOPE_PATTERN.test(s)))
      fail(`groupScopes.${g} must be a list of known scopes`);
    if (violatesSeparationOfDuties(scopes)) fail(`groupScopes.${g}: tokenize together with detokenize scopes breaks separation of duties`);
  }
  const groupBudgets = (doc.groupBudgets ?? {}) as Record<string, number>;
  for (const [g, n] of Object.entries(groupBudgets)) if (!Number.isInteger(n) || n < 0) fail(`groupBudgets.${g} must be a whole number`);
  const budgets = Object.values(groupBudgets);
  const issuer = str('issuer');
  const config: IdpConfig = {
    issuer,
    audience: str('audience'),
    scopeClaim: str('scopeClaim', 'scope'),
    groupsClaim: str('groupsClaim', 'groups'),
    groupScopes,
    groupBudgets,
    defaultBudget: doc.defaultBudget !== undefined ? whole('defaultBudget', 0) : budgets.length ? Math.min(...budgets) : undefined,
    namespacesClaim: str('namespacesClaim', 'ns'),
    defaultNamespaces: Array.isArray(doc.defaultNamespaces) ? (doc.defaultNamespaces as string[]) : ['default'],
  };
  const keyFor = createKeyLookup(issuer, keySource(doc, issuer, rel), {
    cacheSeconds: whole('keyCacheSeconds', 600),
    unknownKidCooldownSeconds: whole('unknownKidCooldownSeconds', 10),
    ...(now ? { now } : {}),
  });
  return { config, keyFor };
}

/**
 * Reads the IdP file (YAML or JSON): one issuer, or `issuers: [...]` for several. Each names its
 * keys by `jwks` (an https:// JWKS URL, or a file), `publicKeys` ([{ kid, pem }], PEM files), or
 * nothing: then they come from the issuer's OpenID Connect discovery document.
 */
export function loadIdp(path: string, opts: { now?: () => number } = {}): IdpIssuer[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    fail(`cannot read ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object') fail('must be an object');
  const rel = (p: string) => resolve(dirname(path), p);
  const docs = Array.isArray(doc.issuers) ? (doc.issuers as Record<string, unknown>[]) : [doc];
  const issuers = docs.map((d) => issuerOf(d, rel, opts.now));
  if (new Set(issuers.map((i) => i.config.issuer)).size !== issuers.length) fail('each issuer may appear once');
  return issuers;
}

/**
 * Maps verified IdP claims to a principal. Claims are checked as the vault's own are (a sub with
 * NUL or a lone surrogate is refused, not stored); staff never get `admin` (it belongs to the
 * CLI's clients), and a mapping that yields tokenize with a detokenize scope is refused.
 */
export function staffPrincipal(config: IdpConfig, payload: Record<string, unknown>): Principal {
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

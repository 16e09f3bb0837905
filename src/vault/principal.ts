/** An authenticated caller: a service client, a staff member from the IdP, or a development token. */
export interface Principal {
  readonly id: string;
  readonly kind: 'client' | 'staff';
  readonly scopes: ReadonlySet<string>;
  /** Namespaces this principal may use; '*' grants all. */
  readonly namespaces: readonly string[];
  /** Revealed values per window for this principal; unset → the configured default. */
  readonly revealBudget?: number;
}

export type RevealLevel = 'plain' | 'masked';

/** Scopes are exact: `admin` manages clients and implies nothing else. */
export function hasScope(p: Principal, scope: string): boolean {
  return p.scopes.has(scope);
}

export function mayUseNamespace(p: Principal, ns: string): boolean {
  return p.namespaces.includes('*') || p.namespaces.includes(ns);
}

/** The most a principal may see of a type: plain beats masked; `admin` reveals nothing by itself. */
export function maxRevealLevel(p: Principal, type: string): RevealLevel | null {
  if (p.scopes.has(`detokenize:plain:${type}`) || p.scopes.has('detokenize:plain:*')) return 'plain';
  if (p.scopes.has(`detokenize:masked:${type}`) || p.scopes.has('detokenize:masked:*')) return 'masked';
  return null;
}

export function hasAnyDetokenizeScope(p: Principal): boolean {
  for (const s of p.scopes) if (s.startsWith('detokenize:')) return true;
  return false;
}

export const SCOPE_PATTERN = /^(tokenize|erase|erasures:read|subjects:export|audit:read|admin|detokenize:(plain|masked):(\*|[a-z0-9]+))$/;

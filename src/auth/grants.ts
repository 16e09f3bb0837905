import { AppError } from '../errors.js';
import { mayUseNamespace, type Principal } from '../vault/principal.js';

/** What an `admin` may grant over HTTP (the policy file's `grants`); wider grants need the CLI. */
export interface GrantPolicy {
  readonly scopes: readonly string[];
  /** The largest revealBudget an HTTP grant may set; unset → the configured default budget. */
  readonly maxRevealBudget?: number | undefined;
}

export const DEFAULT_GRANTS: GrantPolicy = Object.freeze({ scopes: Object.freeze(['tokenize']) });

export interface GrantRequest {
  scopes: readonly string[];
  namespaces: readonly string[];
  revealBudget?: number | null | undefined;
}

/**
 * Consistent tokens are an equality oracle: whoever can tokenize can test a guess against a token
 * they see (`created: false`), so a principal that can also reveal (even masked) can confirm
 * values one guess at a time. Scopes apply to every namespace a principal holds, so the two
 * never go together on one principal.
 */
export function violatesSeparationOfDuties(scopes: Iterable<string>): boolean {
  let tokenize = false;
  let reveal = false;
  for (const s of scopes) {
    if (s === 'tokenize') tokenize = true;
    else if (s.startsWith('detokenize:')) reveal = true;
  }
  return tokenize && reveal;
}

export const separationOfDutiesError = () =>
  new AppError(
    400,
    'SEPARATION_OF_DUTIES',
    'tokenize and detokenize scopes may not be held by one client (consistent tokens would let it confirm guessed values)',
  );

/**
 * The HTTP grant check: every scope in the allowlist, every namespace among the admin's own, a
 * budget no larger than allowed. Returns the reason for a refusal, or null.
 */
export function refuseHttpGrant(req: GrantRequest, admin: Principal, grants: GrantPolicy, defaultBudget: number): string | null {
  const scope = req.scopes.find((s) => !grants.scopes.includes(s));
  if (scope) return `scope ${scope} may not be granted over HTTP`;
  // '*' is within the admin's namespaces only when the admin holds '*' itself.
  const ns = req.namespaces.find((n) => (n === '*' ? !admin.namespaces.includes('*') : !mayUseNamespace(admin, n)));
  if (ns) return `namespace ${ns} is not among the granting principal's namespaces`;
  const max = grants.maxRevealBudget ?? defaultBudget;
  if (req.revealBudget != null && req.revealBudget > max) return `revealBudget above ${max} may not be granted over HTTP`;
  return null;
}

export const grantNotAllowed = (reason: string) => new AppError(403, 'GRANT_NOT_ALLOWED', `${reason}; use the tokenvault CLI`);

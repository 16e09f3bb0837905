import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_GRANTS, type GrantPolicy } from '../auth/grants.js';
import { bindFormat, FormatError, isTokenType, TOKEN_TYPES, type BoundFormat, type TokenType } from '../formats/registry.js';
import { SCOPE_PATTERN } from './principal.js';

export interface Namespace {
  readonly name: string;
  /** One token per value (default); false issues a fresh token on every call. */
  readonly consistent: boolean;
  readonly formats: Readonly<Record<TokenType, BoundFormat>>;
  /**
   * Who may link values to data subjects in this namespace: every principal that may tokenize
   * here (default), nobody, or the listed principal ids. Linking is powerful: a principal that
   * links a value to someone else's subject id puts it in that person's export, and an erasure of
   * that person then reaches it (unlinks it, or deletes it when nobody else holds it).
   */
  readonly attachSubjects: 'tokenize' | 'none' | ReadonlySet<string>;
}

export type Policy = ReadonlyMap<string, Namespace>;

export class PolicyError extends Error {
  readonly code = 'POLICY_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid policy:\n  - ${problems.join('\n  - ')}`);
    this.name = 'PolicyError';
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function buildNamespace(name: string, raw: unknown, problems: string[]): Namespace | undefined {
  const where = `namespace ${name}`;
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${where}: must be an object`);
    return undefined;
  }
  const { consistent = true, types = {}, attachSubjects = 'tokenize', ...rest } = raw as Record<string, unknown>;
  for (const k of Object.keys(rest)) problems.push(`${where}: unknown key ${k} (allowed: consistent, types, attachSubjects)`);
  if (typeof consistent !== 'boolean') problems.push(`${where}: consistent must be true or false`);
  const attach = attachSubjectsOption(attachSubjects);
  if (!attach) problems.push(`${where}: attachSubjects must be "tokenize", "none" or a list of principal ids`);
  if (typeof types !== 'object' || types === null || Array.isArray(types)) {
    problems.push(`${where}: types must be an object of type → options`);
    return undefined;
  }
  for (const t of Object.keys(types)) {
    if (!isTokenType(t)) problems.push(`${where}: unknown type ${t} (known: ${TOKEN_TYPES.join(', ')})`);
  }
  const formats = {} as Record<TokenType, BoundFormat>;
  for (const t of TOKEN_TYPES) {
    const opts = (types as Record<string, unknown>)[t] ?? {};
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
      problems.push(`${where}, type ${t}: options must be an object`);
      continue;
    }
    const bound = bindListingProblems(t, opts as Record<string, unknown>, (m) => problems.push(`${where}, type ${t}: ${m}`));
    if (bound) formats[t] = bound;
  }
  return { name, consistent: consistent === true, formats, attachSubjects: attach ?? 'none' };
}

function attachSubjectsOption(raw: unknown): Namespace['attachSubjects'] | undefined {
  if (raw === 'tokenize' || raw === 'none') return raw;
  if (Array.isArray(raw) && raw.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 200)) return new Set(raw as string[]);
  return undefined;
}

/** Whether this principal may link values to subjects in this namespace (see `attachSubjects`). */
export function mayAttachSubjects(ns: Namespace, principalId: string): boolean {
  return ns.attachSubjects === 'tokenize' || (ns.attachSubjects !== 'none' && ns.attachSubjects.has(principalId));
}

/**
 * bindFormat stops at the first bad option; an operator fixing a file wants every one at once, so
 * on failure each option is tried alone. Only when none fails alone (a combination is the problem,
 * e.g. too few possible tokens) is the combined message reported.
 */
function bindListingProblems(type: TokenType, opts: Record<string, unknown>, report: (message: string) => void): BoundFormat | undefined {
  try {
    return bindFormat(type, opts);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    const each = new Set<string>();
    for (const [k, v] of Object.entries(opts)) {
      try {
        bindFormat(type, { [k]: v });
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
        each.add(e.message);
      }
    }
    for (const m of each.size ? each : [err.message]) report(m);
    return undefined;
  }
}

/** Builds the policy from a parsed document; `default` always exists. */
export function buildPolicy(doc: unknown): Policy {
  const problems: string[] = [];
  const namespaces = new Map<string, Namespace>();
  // A file holding only `grants` keeps the default namespace.
  const given = doc as { namespaces?: unknown; grants?: unknown } | undefined;
  const rawNamespaces = doc === undefined || (given?.grants !== undefined && given.namespaces === undefined) ? {} : given?.namespaces;
  if (doc !== undefined) {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new PolicyError(['the policy must be an object with a "namespaces" key']);
    for (const k of Object.keys(doc))
      if (k !== 'namespaces' && k !== 'grants') problems.push(`unknown top-level key ${k} (allowed: namespaces, grants)`);
    if (typeof rawNamespaces !== 'object' || rawNamespaces === null || Array.isArray(rawNamespaces)) {
      throw new PolicyError([...problems, 'namespaces must be an object of name → namespace']);
    }
  }
  const entries = Object.entries((rawNamespaces ?? {}) as Record<string, unknown>);
  if (!entries.some(([n]) => n === 'default')) entries.unshift(['default', {}]);
  for (const [name, raw] of entries) {
    if (!NAME.test(name)) {
      problems.push(`namespace name ${JSON.stringify(name.slice(0, 64))} must match ${NAME.source}`);
      continue;
    }
    const ns = buildNamespace(name, raw, problems);
    if (ns) namespaces.set(name, ns);
  }
  if (problems.length) throw new PolicyError(problems);
  return namespaces;
}

/**
 * The policy file's `grants`: what an admin may grant over HTTP. Default: `tokenize` only. `admin`
 * is never grantable over HTTP (an admin minting admins would make the allowlist moot).
 */
export function buildGrants(doc: unknown): GrantPolicy {
  const raw = (doc as { grants?: unknown } | undefined)?.grants;
  if (raw === undefined) return DEFAULT_GRANTS;
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new PolicyError(['grants must be an object of scopes and maxRevealBudget']);
  const { scopes = DEFAULT_GRANTS.scopes, maxRevealBudget, ...rest } = raw as Record<string, unknown>;
  for (const k of Object.keys(rest)) problems.push(`grants: unknown key ${k} (allowed: scopes, maxRevealBudget)`);
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !SCOPE_PATTERN.test(s) || s === 'admin')) {
    problems.push('grants.scopes must be a list of known scopes other than admin');
  }
  if (maxRevealBudget !== undefined && !(Number.isInteger(maxRevealBudget) && (maxRevealBudget as number) >= 0))
    problems.push('grants.maxRevealBudget must be a whole number');
  if (problems.length) throw new PolicyError(problems);
  return Object.freeze({ scopes: Object.freeze([...(scopes as string[])]), maxRevealBudget: maxRevealBudget as number | undefined });
}

export function loadPolicy(path: string | undefined): Policy {
  return buildPolicy(readPolicyDocument(path));
}

export function loadGrants(path: string | undefined): GrantPolicy {
  return buildGrants(readPolicyDocument(path));
}

function readPolicyDocument(path: string | undefined): unknown {
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyError([`TOKENVAULT_POLICY: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let doc: unknown;
  try {
    doc = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new PolicyError([
      `TOKENVAULT_POLICY: ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    ]);
  }
  return doc;
}

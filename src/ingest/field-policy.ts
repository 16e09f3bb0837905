import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isTokenType, type TokenType } from '../formats/registry.js';

/**
 * Field paths: keys separated by dots; `[]` after a key means "every element of this array".
 *   user.email          the email property of the user object
 *   items[].email       the email of every object in the items array
 *   tags[]              every element of an array of strings
 * A key is any run of characters other than `.`, `[` and `]` (keys holding those cannot be named).
 */
export interface PathSegment {
  key: string;
  each: boolean;
}

const SEGMENT = /^([^.[\]]+)(\[\])?$/;

export function parsePath(path: string): PathSegment[] {
  if (typeof path !== 'string' || path.length === 0 || path.length > 512) throw new FieldPolicyError(`path must be 1 to 512 characters`);
  return path.split('.').map((part) => {
    const m = SEGMENT.exec(part);
    if (!m)
      throw new FieldPolicyError(`path "${path}": each dot-separated part must be a key, optionally followed by [] (e.g. items[].email)`);
    return { key: m[1]!, each: Boolean(m[2]) };
  });
}

export type FieldAction = 'tokenize' | 'mask' | 'drop';
/** What an invalid value does: reject the record (reported, not emitted), null the field, or drop the record (counted). */
export type InvalidChoice = 'reject' | 'null' | 'drop';

export interface FieldRule {
  path: string;
  segments: PathSegment[];
  action: FieldAction;
  /** Absent only for `drop`. */
  type?: TokenType;
  onInvalid: InvalidChoice;
}

export interface FieldPolicy {
  namespace?: string;
  /** Where a record holds its data subject's id: linked to every token of that record. */
  subject?: { path: string; segments: PathSegment[] };
  fields: FieldRule[];
}

export class FieldPolicyError extends Error {}

const ACTIONS = new Set<FieldAction>(['tokenize', 'mask', 'drop']);
const INVALID = new Set<InvalidChoice>(['reject', 'null', 'drop']);

function ruleOf(path: string, spec: unknown): FieldRule {
  const segments = parsePath(path);
  if (typeof spec === 'string') spec = { type: spec };
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new FieldPolicyError(`field "${path}": give a token type, or { type, action, onInvalid }`);
  const { type, action = 'tokenize', onInvalid = 'reject', ...rest } = spec as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new FieldPolicyError(`field "${path}": unknown key(s) ${extra.join(', ')}`);
  if (!ACTIONS.has(action as FieldAction)) throw new FieldPolicyError(`field "${path}": action must be tokenize, mask or drop`);
  if (!INVALID.has(onInvalid as InvalidChoice)) throw new FieldPolicyError(`field "${path}": onInvalid must be reject, null or drop`);
  if (action !== 'drop' && (typeof type !== 'string' || !isTokenType(type)))
    throw new FieldPolicyError(`field "${path}": type must be a token type (email, phone, ipv4, …)`);
  return {
    path,
    segments,
    action: action as FieldAction,
    type: action === 'drop' ? undefined : (type as TokenType),
    onInvalid: onInvalid as InvalidChoice,
  };
}

/**
 * The field policy shared by the record tokenizer and `tokenvault tokenize-file`:
 *   namespace: default          (optional)
 *   subject: user.id            (optional; a path without [])
 *   fields:
 *     user.email: email                                   # short form: tokenize
 *     client.ip: { type: ipv4, onInvalid: null }
 *     payment.card: { type: card, action: mask }
 *     debug.raw: { action: drop }
 * A bare map of path → type (no `fields` key) is accepted too.
 */
export function parseFieldPolicy(raw: unknown): FieldPolicy {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new FieldPolicyError(
      'a field policy is an object: { namespace?, subject?, fields: { path: type | { type, action, onInvalid } } }',
    );
  const r = raw as Record<string, unknown>;
  const wrapped = 'fields' in r;
  const fields = (wrapped ? r.fields : r) as Record<string, unknown>;
  if (wrapped) {
    const extra = Object.keys(r).filter((k) => !['namespace', 'subject', 'fields'].includes(k));
    if (extra.length) throw new FieldPolicyError(`unknown key(s) ${extra.join(', ')}: expected namespace, subject, fields`);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields) || Object.keys(fields).length === 0)
    throw new FieldPolicyError('fields must map at least one path to a token type');
  const policy: FieldPolicy = { fields: Object.entries(fields).map(([path, spec]) => ruleOf(path, spec)) };
  if (wrapped && r.namespace !== undefined) {
    if (typeof r.namespace !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(r.namespace))
      throw new FieldPolicyError('namespace must be a namespace name');
    policy.namespace = r.namespace;
  }
  if (wrapped && r.subject !== undefined) {
    if (typeof r.subject !== 'string') throw new FieldPolicyError('subject must be a path');
    const segments = parsePath(r.subject);
    if (segments.some((s) => s.each)) throw new FieldPolicyError('subject path cannot contain []: a record has one subject');
    policy.subject = { path: r.subject, segments };
  }
  return policy;
}

/** YAML or JSON (YAML reads both). */
export function loadFieldPolicy(file: string): FieldPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FieldPolicyError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseFieldPolicy(raw);
}

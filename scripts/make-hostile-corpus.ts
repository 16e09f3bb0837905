/**
 * Writes test/fixtures/hostile-inputs.json: the hostile-input corpus the reliability tests replay.
 * Regenerate with `npx tsx scripts/make-hostile-corpus.ts` after changing it; the JSON is the
 * reviewed artifact (every case names the exact status and error code it must get).
 */
import { writeFileSync } from 'node:fs';

interface Case {
  name: string;
  method: 'POST' | 'GET';
  url: string;
  auth: string | null;
  contentType?: string;
  body?: string;
  /** Build a body of this many repetitions of `char` inside a JSON string at run time. */
  oversize?: number;
  status: number;
  code: string;
}

const cases: Case[] = [];
const json = (v: unknown) => JSON.stringify(v);
const ROUTES = [
  { url: '/v1/tokenize', auth: 'tokenize', good: { items: [{ type: 'email', value: 'a@example.com' }] } },
  { url: '/v1/detokenize', auth: 'detokenize:plain:*', good: { tokens: ['x@example.com'], purpose: 'TICKET-1' } },
  { url: '/v1/erasures', auth: 'erase', good: { tokens: ['x@example.com'] } },
  { url: '/v1/subjects/export', auth: 'subjects:export', good: { subject: 's1', purpose: 'TICKET-1' } },
];
const add = (c: Case) => cases.push(c);

const MALFORMED = [
  '{',
  '[',
  '}',
  '{"items": [}',
  '{"items": [{"type": "email"]}',
  "{'items': []}",
  'NaN',
  '{"a": 1,}',
  '{"a": undefined}',
  'nul',
  'tru',
  '{"items": [1, 2',
  '"unterminated',
  '{"a":"\\x41"}',
  '{"a": 01}',
];
for (const r of ROUTES) {
  MALFORMED.forEach((body, i) =>
    add({
      name: `${r.url} malformed JSON #${i}`,
      method: 'POST',
      url: r.url,
      auth: r.auth,
      contentType: 'application/json',
      body,
      status: 400,
      code: 'MALFORMED_JSON',
    }),
  );
  add({
    name: `${r.url} empty JSON body`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: '',
    status: 400,
    code: 'MALFORMED_JSON',
  });
  for (const ct of [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
  ]) {
    add({
      name: `${r.url} content type ${ct}`,
      method: 'POST',
      url: r.url,
      auth: r.auth,
      contentType: ct,
      body: json(r.good),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  }
  add({
    name: `${r.url} body over the limit`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    oversize: 17 * 1024 * 1024,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
  add({
    name: `${r.url} __proto__ key`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: `{"__proto__": {"admin": true}, ${json(r.good).slice(1)}`,
    status: 400,
    code: 'MALFORMED_JSON',
  });
  add({
    name: `${r.url} constructor.prototype key`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: `{"constructor": {"prototype": {"admin": true}}, ${json(r.good).slice(1)}`,
    status: 400,
    code: 'MALFORMED_JSON',
  });
  add({
    name: `${r.url} unknown top-level field`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: json({ ...r.good, extra: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `${r.url} array body`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: json([r.good]),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `${r.url} string body`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: json('items'),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `${r.url} null body`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: 'null',
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `${r.url} deep nesting`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: `{"items": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `${r.url} namespace SQL`,
    method: 'POST',
    url: r.url,
    auth: r.auth,
    contentType: 'application/json',
    body: json({ ...r.good, namespace: "default'; drop table mappings; --" }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
}

// Field-level hazards per typed input.
const HAZARDS: Record<string, string> = {
  nul: 'a\u0000b@example.com',
  loneSurrogate: 'a\ud800b@example.com',
  bidiOverride: 'ad\u202emoc.elpmaxe@',
  zeroWidth: 'a\u200bb@example.com',
  sql: "x' or '1'='1",
  sqlComment: 'a@example.com; --',
  html: '<script>alert(1)</script>',
  emptyish: '   ',
  controlChars: 'a\u0007\u001b[31m@example.com',
};
const TYPES = ['email', 'phone', 'card', 'ssn', 'ipv4', 'ipv6', 'uuid', 'date', 'digits'];
for (const type of TYPES) {
  for (const [hazard, value] of Object.entries(HAZARDS)) {
    add({
      name: `tokenize ${type} with ${hazard}`,
      method: 'POST',
      url: '/v1/tokenize',
      auth: 'tokenize',
      contentType: 'application/json',
      body: json({ items: [{ type, value }] }),
      status: 400,
      code: 'VALIDATION_FAILED',
    });
  }
}
for (const [hazard, value] of Object.entries({
  nul: 'TICKET\u0000',
  bidiOverride: 'TICKET-\u202e1',
  loneSurrogate: 'TICKET-\ud800',
  controlChars: 'TICKET\n1',
  tooShort: 'ab',
  tooLong: 'x'.repeat(201),
})) {
  add({
    name: `detokenize purpose with ${hazard}`,
    method: 'POST',
    url: '/v1/detokenize',
    auth: 'detokenize:plain:*',
    contentType: 'application/json',
    body: json({ tokens: ['x'], purpose: value }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `export purpose with ${hazard}`,
    method: 'POST',
    url: '/v1/subjects/export',
    auth: 'subjects:export',
    contentType: 'application/json',
    body: json({ subject: 's', purpose: value }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
}
for (const [hazard, tokens] of Object.entries({
  nul: ['a\u0000b'],
  empty: [''],
  tooMany: Array(1001).fill('x'),
  none: [],
  number: [1],
  nested: [['x']],
  tooLong: ['x'.repeat(513)],
})) {
  add({
    name: `detokenize tokens ${hazard}`,
    method: 'POST',
    url: '/v1/detokenize',
    auth: 'detokenize:plain:*',
    contentType: 'application/json',
    body: json({ tokens, purpose: 'TICKET-1' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
  add({
    name: `erase tokens ${hazard}`,
    method: 'POST',
    url: '/v1/erasures',
    auth: 'erase',
    contentType: 'application/json',
    body: json({ tokens }),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
}
const WRONG_TYPES: [string, unknown][] = [
  ['items object', { items: { type: 'email', value: 'a@example.com' } }],
  ['items empty', { items: [] }],
  ['10,001 items', { items: Array.from({ length: 10_001 }, () => ({ type: 'text', value: 'x' })) }],
  ['value number', { items: [{ type: 'email', value: 1 }] }],
  ['value null', { items: [{ type: 'email', value: null }] }],
  ['value array', { items: [{ type: 'email', value: ['a@example.com'] }] }],
  ['value object', { items: [{ type: 'email', value: { toString: 'x' } }] }],
  ['type unknown', { items: [{ type: 'passport', value: 'x' }] }],
  ['type number', { items: [{ type: 1, value: 'x' }] }],
  ['item unknown field', { items: [{ type: 'email', value: 'a@example.com', token: 'x' }] }],
  ['item missing value', { items: [{ type: 'email' }] }],
  ['subject empty', { items: [{ type: 'email', value: 'a@example.com', subject: '' }] }],
  ['subject number', { items: [{ type: 'email', value: 'a@example.com', subject: 7 }] }],
  ['subject NUL', { items: [{ type: 'email', value: 'a@example.com', subject: 'a\u0000' }] }],
  ['onInvalid bad', { items: [{ type: 'email', value: 'a@example.com' }], onInvalid: 'drop' }],
  ['namespace number', { namespace: 1, items: [{ type: 'email', value: 'a@example.com' }] }],
  ['namespace upper case', { namespace: 'Default', items: [{ type: 'email', value: 'a@example.com' }] }],
  ['text over 64 KiB', { items: [{ type: 'text', value: 'x'.repeat(65_537) }] }],
  ['email over 254', { items: [{ type: 'email', value: `${'a'.repeat(60)}@${'b'.repeat(200)}.com` }] }],
  ['alnum over 256 code points', { items: [{ type: 'alnum', value: '😀'.repeat(257) }] }],
  ['date Feb 30', { items: [{ type: 'date', value: '2023-02-30' }] }],
  ['card Luhn-invalid', { items: [{ type: 'card', value: '4111111111111112' }] }],
  ['ssn area 666', { items: [{ type: 'ssn', value: '666-12-3456' }] }],
  ['phone without +', { items: [{ type: 'phone', value: '4155550100' }] }],
  ['digits too short', { items: [{ type: 'digits', value: '12345' }] }],
  ['ipv6 zone id', { items: [{ type: 'ipv6', value: 'fe80::1%eth0' }] }],
];
for (const [name, body] of WRONG_TYPES)
  add({
    name: `tokenize ${name}`,
    method: 'POST',
    url: '/v1/tokenize',
    auth: 'tokenize',
    contentType: 'application/json',
    body: json(body),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
add({
  name: 'tokenize unknown namespace',
  method: 'POST',
  url: '/v1/tokenize',
  auth: 'tokenize',
  contentType: 'application/json',
  body: json({ namespace: 'nowhere', items: [{ type: 'text', value: 'x' }] }),
  status: 404,
  code: 'NAMESPACE_NOT_FOUND',
});
for (const [name, body] of [
  ['both subject and tokens', { subject: 's', tokens: ['x'] }],
  ['type without value', { type: 'email' }],
  ['empty object', {}],
  ['reference with space', { subject: 's', reference: 'DSR 1' }],
  ['reference with PII-ish @', { subject: 's', reference: 'alice@example.com' }],
  ['value for unknown type', { type: 'passport', value: 'x' }],
  ['invalid value for type', { type: 'email', value: 'not-an-email' }],
] as [string, unknown][])
  add({
    name: `erase ${name}`,
    method: 'POST',
    url: '/v1/erasures',
    auth: 'erase',
    contentType: 'application/json',
    body: json(body),
    status: 400,
    code: 'VALIDATION_FAILED',
  });
for (const q of [
  'limit=0',
  'limit=1001',
  'limit=-1',
  'limit=abc',
  'cursor=-5',
  'from=notatime',
  'to=2026-13-45T00:00:00Z',
  'unknown=1',
  'actor=%00',
]) {
  add({ name: `audit query ${q}`, method: 'GET', url: `/v1/audit?${q}`, auth: 'audit:read', status: 400, code: 'VALIDATION_FAILED' });
}
for (const q of ['after=-1', 'after=abc', 'limit=5000', 'x=1'])
  add({
    name: `erasure feed ${q}`,
    method: 'GET',
    url: `/v1/erasures?${q}`,
    auth: 'erasures:read',
    status: 400,
    code: 'VALIDATION_FAILED',
  });
add({
  name: 'receipt id not a uuid',
  method: 'GET',
  url: '/v1/erasures/not-a-uuid',
  auth: 'erase',
  status: 400,
  code: 'VALIDATION_FAILED',
});
add({
  name: 'receipt id unknown',
  method: 'GET',
  url: '/v1/erasures/00000000-0000-4000-8000-000000000000',
  auth: 'erase',
  status: 404,
  code: 'NOT_FOUND',
});
for (const [name, body] of [
  ['scope unknown', { name: 'c1', scopes: ['superuser'], namespaces: ['default'] }],
  ['name with space', { name: 'c 1', scopes: ['tokenize'], namespaces: ['default'] }],
  ['no scopes', { name: 'c2', scopes: [], namespaces: ['default'] }],
  ['namespace SQL', { name: 'c3', scopes: ['tokenize'], namespaces: ["x'; drop table clients; --"] }],
  ['budget negative', { name: 'c4', scopes: ['tokenize'], namespaces: ['default'], revealBudget: -1 }],
] as [string, unknown][])
  add({
    name: `client create ${name}`,
    method: 'POST',
    url: '/v1/clients',
    auth: 'admin',
    contentType: 'application/json',
    body: json(body),
    status: 400,
    code: 'VALIDATION_FAILED',
  });

console.log(`${cases.length} cases`);
writeFileSync(new URL('../test/fixtures/hostile-inputs.json', import.meta.url), `${JSON.stringify(cases, null, 1)}\n`);

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOKEN_TYPES } from '../../src/formats/registry.js';
import { buildPolicy, loadPolicy, PolicyError, type Policy } from '../../src/vault/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'tokenvault-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/**
 * The problems a policy is refused with. Assertions match what each problem must name (namespace,
 * type, option, rule) rather than its exact wording, so the presentation can change freely.
 */
function problems(load: () => Policy): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).code).toBe('POLICY_INVALID');
    return (err as PolicyError).problems.map((p) => (typeof p === 'string' ? p : JSON.stringify(p)));
  }
  throw new Error('expected a PolicyError');
}

const README_YAML = `# the README's example
namespaces:
  default: {}
  analytics:
    types:
      email: { domain: token }
      card:  { keepFirst: 6, luhn: valid }
      ipv4:  { keepPrefix: 8 }
      phone: { keepLast: 4 }
  sessions:
    consistent: false
`;

describe('loadPolicy: valid files', () => {
  it('without a file there is exactly the default namespace, consistent, every type with default options', () => {
    for (const p of [loadPolicy(undefined), loadPolicy(''), buildPolicy(undefined)]) {
      expect([...p.keys()]).toEqual(['default']);
      const ns = p.get('default')!;
      expect(ns.name).toBe('default');
      expect(ns.consistent).toBe(true);
      expect(Object.keys(ns.formats)).toEqual([...TOKEN_TYPES]);
      expect(ns.formats.card.options).toEqual({ keepFirst: 0, keepLast: 4, luhn: 'invalid' });
      expect(ns.formats.email.type).toBe('email');
    }
  });

  it("the README's YAML example", () => {
    const p = loadPolicy(file('policy.yaml', README_YAML));
    expect([...p.keys()]).toEqual(['default', 'analytics', 'sessions']);
    const analytics = p.get('analytics')!;
    expect(analytics.consistent).toBe(true);
    expect(analytics.formats.email.options).toEqual({ domain: 'token' });
    expect(analytics.formats.card.options).toEqual({ keepFirst: 6, keepLast: 4, luhn: 'valid' });
    expect(analytics.formats.ipv4.options).toEqual({ keepPrefix: 8 });
    expect(analytics.formats.phone.options).toEqual({ keepLast: 4 });
    expect(analytics.formats.digits.options).toEqual({ keepFirst: 0, keepLast: 0 });
    expect(p.get('sessions')!.consistent).toBe(false);
    expect(p.get('sessions')!.formats.email.options).toEqual({ domain: 'keep' });
  });

  it('the same policy as JSON (any case of the extension), and YAML under .yml', () => {
    const json = JSON.stringify({ namespaces: { analytics: { types: { card: { keepFirst: 6 } } }, sessions: { consistent: false } } });
    for (const name of ['policy.json', 'policy.JSON', 'policy.yml']) {
      const p = loadPolicy(file(name, json));
      // default is added first when the file does not name it.
      expect([...p.keys()]).toEqual(['default', 'analytics', 'sessions']);
      expect(p.get('analytics')!.formats.card.options).toEqual({ keepFirst: 6, keepLast: 4, luhn: 'invalid' });
      expect(p.get('sessions')!.consistent).toBe(false);
    }
  });

  it('an empty namespace, empty types, null options and a redefined default', () => {
    const p = loadPolicy(
      file('empty.yaml', 'namespaces:\n  default:\n    consistent: false\n  bare:\n  typed:\n    types:\n      card:\n'),
    );
    expect([...p.keys()]).toEqual(['default', 'bare', 'typed']);
    expect(p.get('default')!.consistent).toBe(false);
    expect(p.get('bare')!.consistent).toBe(true);
    expect(p.get('typed')!.formats.card.options).toEqual({ keepFirst: 0, keepLast: 4, luhn: 'invalid' });
  });

  it('a default the file names keeps its place and its settings', () => {
    const p = buildPolicy({ namespaces: { a: {}, default: { consistent: false } } });
    expect([...p.keys()]).toEqual(['a', 'default']);
    expect(p.get('default')!.consistent).toBe(false);
  });

  it('namespace names: 1 to 63 of [a-z0-9_-], not starting with - or _', () => {
    const ok = ['a', '0', 'a-b_c', 'x'.repeat(63)];
    const p = buildPolicy({ namespaces: Object.fromEntries(ok.map((n) => [n, {}])) });
    expect([...p.keys()].sort()).toEqual(['default', ...ok].sort());
    for (const bad of ['x'.repeat(64), 'Analytics', '-a', '_a', 'a b', 'a.b', 'é', '']) {
      expect(problems(() => buildPolicy({ namespaces: { [bad]: {} } }))).toEqual([expect.stringContaining('must match')]);
    }
  });
});

describe('loadPolicy: invalid files', () => {
  it('every problem in a file is listed, each naming where it is', () => {
    const yaml = `namespaces:
  analytics:
    consistent: "yes"
    color: blue
    types:
      card: { keepFirst: 5 }
      ipv4: { keepPrefix: 16 }
      names: {}
      email: [keep]
  BadName: {}
  other: []
  typeless:
    types: [email]
extra: 1
`;
    expect(problems(() => loadPolicy(file('bad.yaml', yaml)))).toEqual([
      expect.stringMatching(/extra/),
      expect.stringMatching(/analytics.*color/),
      expect.stringMatching(/analytics.*consistent/),
      expect.stringMatching(/analytics.*names.*email, phone, ipv4/),
      // Per type in the registry's order.
      expect.stringMatching(/analytics.*email.*object/),
      expect.stringMatching(/analytics.*ipv4.*possible tokens/),
      expect.stringMatching(/analytics.*card.*keepFirst/),
      expect.stringMatching(/BadName/),
      expect.stringMatching(/other.*object/),
      expect.stringMatching(/typeless.*types/),
    ]);
  });

  it.each([
    ['a scalar document', '42', /object with a "namespaces" key/],
    ['a list document', '- a\n- b', /object with a "namespaces" key/],
    ['an empty document', '', /object with a "namespaces" key/],
    ['no namespaces key', 'other: 1', /namespaces must be an object/],
    ['namespaces as a list', 'namespaces: [default]', /namespaces must be an object/],
    ['namespaces as null', 'namespaces:', /namespaces must be an object/],
  ])('%s is refused', (_name, yaml, message) => {
    const list = problems(() => loadPolicy(file('shape.yaml', yaml)));
    expect(list.at(-1)).toMatch(message);
    expect(list.length).toBe(yaml.startsWith('other') ? 2 : 1);
  });

  it('a missing file names the path and the cause', () => {
    const path = join(dir, 'missing.yaml');
    expect(problems(() => loadPolicy(path))).toEqual([expect.stringMatching(new RegExp(`TOKENVAULT_POLICY.*${path}.*ENOENT`))]);
  });

  it('unparseable JSON and YAML say which, with the parser’s first line', () => {
    const json = problems(() => loadPolicy(file('broken.json', '{"namespaces": ')));
    expect(json).toEqual([expect.stringMatching(/broken\.json is not valid JSON: \S/)]);
    const yaml = problems(() => loadPolicy(file('broken.yaml', 'namespaces: {default: [}\n')));
    // The first line of the parser's message, with its position; not the multi-line excerpt after it.
    expect(yaml).toEqual([expect.stringMatching(/broken\.yaml is not valid YAML: .*at line 1, column 24:$/)]);
    expect(yaml[0]).not.toContain('\n');
  });

  it('namespace and types of the wrong shape, each named', () => {
    expect(
      problems(() =>
        buildPolicy({ namespaces: { a: 5, b: 'x', c: { types: null }, d: { types: 'email' }, e: { types: { email: 'keep' } } } }),
      ),
    ).toEqual([
      expect.stringMatching(/namespace a: must be an object/),
      expect.stringMatching(/namespace b: must be an object/),
      expect.stringMatching(/namespace c: types must be an object/),
      expect.stringMatching(/namespace d: types must be an object/),
      expect.stringMatching(/namespace e, type email: options must be an object/),
    ]);
    // An undefined namespace (possible from code, not from a file) is an empty one.
    expect(buildPolicy({ namespaces: { a: undefined } }).get('a')!.consistent).toBe(true);
  });

  it('a long bad namespace name is quoted only in part', () => {
    const [p] = problems(() => buildPolicy({ namespaces: { ['X'.repeat(100)]: {} } }));
    expect(p).toContain(JSON.stringify('X'.repeat(64)));
    expect(p).not.toContain('X'.repeat(65));
  });

  it('only a final .json means JSON', () => {
    const p = loadPolicy(file('policy.json.yaml', 'namespaces:\n  a: {}\n'));
    expect([...p.keys()]).toEqual(['default', 'a']);
    expect(problems(() => loadPolicy(file('broken.json.yaml', 'a: [\n')))).toEqual([expect.stringMatching(/is not valid YAML/)]);
  });

  it('the error message lists every problem', () => {
    let err: unknown;
    try {
      buildPolicy({ namespaces: { a: { x: 1 }, b: { y: 2 } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    const e = err as PolicyError;
    expect(e.name).toBe('PolicyError');
    expect(e.problems).toHaveLength(2);
    for (const p of e.problems) expect(e.message).toContain(typeof p === 'string' ? p : JSON.stringify(p));
  });
});

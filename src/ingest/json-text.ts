import { parseTree, type Node, type ParseError } from 'jsonc-parser';
import type { PathSegment } from './field-policy.js';
import type { RecordView, Slot } from './record-tokenizer.js';

/** Stands in for an object or array where a path expected a value: never a string, so it is INVALID_TYPE. */
const NOT_A_VALUE = Object.freeze({});

interface Edit {
  offset: number;
  length: number;
  content: string;
}

function parseObject(text: string): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors.length === 0 && root?.type === 'object' ? root : undefined;
}

/** Every property node named `key` in an object node: duplicate keys are all found, so none keeps its plaintext. */
function properties(node: Node | undefined, key: string): Node[] {
  if (node?.type !== 'object') return [];
  return (node.children ?? []).filter((p) => p.children?.[0]?.value === key);
}

/** Every value node at a path; with `owners`, the property nodes of the last key instead. */
function locate(root: Node, segments: PathSegment[], owners = false): Node[] {
  let nodes = [root];
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    nodes = nodes.flatMap((n) => properties(n, seg.key)).flatMap((prop) => {
      if (last && owners) return [prop];
      const value = prop.children?.[1];
      if (!value) return [];
      if (!seg.each) return [value];
      return value.type === 'array' ? (value.children ?? []) : [];
    });
  });
  return nodes;
}

function valueOf(node: Node): unknown {
  return node.type === 'object' || node.type === 'array' ? NOT_A_VALUE : node.value;
}

/** Removes one property and the comma that separated it, leaving every other byte in place. */
function removeOne(text: string, segments: PathSegment[]): string | undefined {
  const root = parseObject(text);
  const prop = root && locate(root, segments, true)[0];
  if (!prop?.parent) return undefined;
  const siblings = prop.parent.children!;
  const i = siblings.indexOf(prop);
  const next = siblings[i + 1];
  const prev = siblings[i - 1];
  const [from, to] = next ? [prop.offset, next.offset] : prev ? [prev.offset + prev.length, prop.offset + prop.length] : [prop.offset, prop.offset + prop.length];
  return text.slice(0, from) + text.slice(to);
}

/**
 * One JSON Lines record as text: found values are replaced where they stand and removed fields cut
 * out, so every other byte of the line (key order, spacing, escapes, number spelling) is kept.
 */
export function textView(line: string): RecordView<string> {
  if (line.trim() === '') return { find: () => [], remove: () => undefined, finish: () => line };
  const root = parseObject(line);
  if (!root) {
    return { unreadable: { path: '', code: 'INVALID_JSON', message: 'the line is not a JSON object' }, find: () => [], remove: () => undefined, finish: () => line };
  }
  const edits: Edit[] = [];
  const removals: PathSegment[][] = [];
  return {
    find: (segments) => locate(root, segments).map((node): Slot => ({
      value: valueOf(node),
      set: (v) => edits.push({ offset: node.offset, length: node.length, content: JSON.stringify(v) }),
    })),
    remove: (segments) => removals.push(segments),
    finish() {
      let text = line;
      // Right to left, so earlier offsets stay valid; the value nodes of one tree never overlap.
      for (const e of edits.sort((a, b) => b.offset - a.offset)) text = text.slice(0, e.offset) + e.content + text.slice(e.offset + e.length);
      for (const segments of removals) {
        // One at a time on a fresh parse: adjacent removals would otherwise share a comma.
        for (let cut = removeOne(text, segments); cut !== undefined; cut = removeOne(text, segments)) text = cut;
      }
      return text;
    },
  };
}

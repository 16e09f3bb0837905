import { parseTree, type Node, type ParseError } from 'jsonc-parser';
import type { PathSegment } from './field-policy.js';
import { objectView, type RecordView, type Slot } from './record-tokenizer.js';

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
    nodes = nodes
      .flatMap((n) => properties(n, seg.key))
      .flatMap((prop) => {
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
  const [from, to] = next
    ? [prop.offset, next.offset]
    : prev
      ? [prev.offset + prev.length, prop.offset + prop.length]
      : [prop.offset, prop.offset + prop.length];
  return text.slice(0, from) + text.slice(to);
}

class TextSlot implements Slot {
  constructor(
    readonly value: unknown,
    private readonly node: Node,
    private readonly edits: Edit[],
  ) {}
  set(v: string | null): void {
    this.edits.push({ offset: this.node.offset, length: this.node.length, content: JSON.stringify(v) });
  }
}

/** A line that is not compact JSON: values are spliced in where they stand. */
class SplicedView implements RecordView<string> {
  private readonly edits: Edit[] = [];
  private readonly removals: PathSegment[][] = [];
  constructor(
    private readonly line: string,
    private readonly root: Node,
  ) {}
  find(segments: PathSegment[]): Slot[] {
    return locate(this.root, segments).map((node) => new TextSlot(valueOf(node), node, this.edits));
  }
  remove(segments: PathSegment[]): void {
    this.removals.push(segments);
  }
  finish(): string {
    let text = this.line;
    // Right to left, so earlier offsets stay valid; the value nodes of one tree never overlap.
    for (const e of this.edits.sort((a, b) => b.offset - a.offset))
      text = text.slice(0, e.offset) + e.content + text.slice(e.offset + e.length);
    for (const segments of this.removals) {
      // One at a time on a fresh parse: adjacent removals would otherwise share a comma.
      for (let cut = removeOne(text, segments); cut !== undefined; cut = removeOne(text, segments)) text = cut;
    }
    return text;
  }
}

/** A line JSON.stringify writes back byte for byte: changed as an object, serialized again only if changed. */
class CompactView implements RecordView<string> {
  private readonly view: RecordView<unknown>;
  private changed = false;
  constructor(
    private readonly line: string,
    parsed: object,
  ) {
    this.view = objectView(parsed);
  }
  find(segments: PathSegment[]): Slot[] {
    const slots = this.view.find(segments);
    if (slots.length) this.changed = true;
    return slots;
  }
  remove(segments: PathSegment[]): void {
    this.changed = true;
    this.view.remove(segments);
  }
  finish(): string {
    return this.changed ? JSON.stringify(this.view.finish()) : this.line;
  }
}

/** A line that is blank or not a JSON object: passed through, or rejected. */
class FixedView implements RecordView<string> {
  constructor(
    private readonly line: string,
    readonly unreadable?: { path: string; code: string; message: string },
  ) {}
  find(): Slot[] {
    return [];
  }
  remove(): void {}
  finish(): string {
    return this.line;
  }
}

/**
 * One JSON Lines record as text, every byte but the configured values kept (key order, spacing,
 * escapes, number spelling). A line that JSON.stringify writes back byte for byte (compact,
 * canonical escapes and numbers, no integer-like keys V8 would reorder, no duplicate keys) is
 * changed as an object and serialized again, several times cheaper: the equality check is the
 * proof that no other byte moves. Any other line has its values spliced in where they stand.
 */
export function textView(line: string): RecordView<string> {
  if (line.trim() === '') return new FixedView(line);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && JSON.stringify(parsed) === line)
    return new CompactView(line, parsed);
  const root = parseObject(line);
  if (!root) return new FixedView(line, { path: '', code: 'INVALID_JSON', message: 'the line is not a JSON object' });
  return new SplicedView(line, root);
}

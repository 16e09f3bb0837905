/**
 * The Kafka-free half of the examples: what they send to Kafka, computed from what they read.
 * Tested against a real vault (test/ingest/kafka-examples.test.ts); the services around it are not run here.
 */
import type { ErasureFeedResponse, VaultClient } from 'tokenvault/client';
import type { FieldProblem, RecordTokenizer } from 'tokenvault/ingest';

export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

export interface OutMessage {
  key: string | null;
  value: string | null;
}

export interface BatchResult {
  clean: OutMessage[];
  /** Offset and problem codes of each message not forwarded; never the message (it holds plaintext). */
  rejected: { offset: string; problems: FieldProblem[] }[];
}

/**
 * Tokenizes one consumed batch. The clean message's key is the token at `keyPath` when given (so the
 * clean topic can be compacted by token and erased by tombstones), else null: the raw key may be PII.
 */
export async function tokenizeBatch(tokenizer: RecordTokenizer, messages: RawMessage[], keyPath?: string): Promise<BatchResult> {
  const parsed = messages.map((m) => {
    try {
      const v: unknown = m.value ? JSON.parse(m.value.toString('utf8')) : undefined;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
    } catch {
      return undefined;
    }
  });
  const readable = parsed.flatMap((record, i) => (record ? [{ record, offset: messages[i]!.offset }] : []));
  const outcomes = await tokenizer.tokenize(readable.map((r) => r.record));
  const result: BatchResult = { clean: [], rejected: [] };
  parsed.forEach((record, i) => {
    if (!record)
      result.rejected.push({
        offset: messages[i]!.offset,
        problems: [{ path: '', code: 'INVALID_JSON', message: 'the message is not a JSON object' }],
      });
  });
  outcomes.forEach((o, i) => {
    if (o.status === 'ok') {
      const key = keyPath
        ? keyPath
            .split('.')
            .reduce<unknown>((n, k) => (typeof n === 'object' && n !== null ? (n as Record<string, unknown>)[k] : undefined), o.record)
        : null;
      result.clean.push({ key: typeof key === 'string' ? key : null, value: JSON.stringify(o.record) });
    } else if (o.status === 'rejected') {
      result.rejected.push({ offset: readable[i]!.offset, problems: o.problems });
    }
  });
  return result;
}

/** One page of the erasure feed → tombstones (null values keyed by token) and the cursor to store after sending them. */
export async function nextTombstones(
  client: Pick<VaultClient, 'erasureFeed'>,
  after: string,
  limit = 1000,
): Promise<{ tombstones: OutMessage[]; cursor: string; events: ErasureFeedResponse['events'] }> {
  const page = await client.erasureFeed({ after, limit: String(limit) });
  const tombstones = page.events.flatMap((e) => e.tokens.map((t) => ({ key: t.token, value: null })));
  return { tombstones, cursor: page.nextCursor, events: page.events };
}

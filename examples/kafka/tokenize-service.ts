/**
 * Consumes raw events, tokenizes the fields named in a field policy, produces to the clean topic.
 * Type-checked in CI; NOT run on the machines this was written on (no Kafka broker there).
 *
 *   KAFKA_BROKERS=localhost:9092 RAW_TOPIC=events.raw CLEAN_TOPIC=events.clean REJECT_TOPIC=events.rejects \
 *   FIELDS=fields.yaml KEY_PATH=user.email TOKENVAULT_URL=… TOKENVAULT_CLIENT_ID=… TOKENVAULT_CLIENT_SECRET=… \
 *   npx tsx examples/kafka/tokenize-service.ts
 *
 * At least once: offsets are committed only after the clean batch is acknowledged, so a crash
 * re-sends the batch; with a consistent namespace the re-sent events carry the same tokens.
 */
import { Kafka, CompressionTypes } from 'kafkajs';
import { createClient } from 'tokenvault/client';
import { createRecordTokenizer, loadFieldPolicy } from 'tokenvault/ingest';
import { tokenizeBatch } from './pipeline.js';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

const kafka = new Kafka({ clientId: 'tokenize-service', brokers: need('KAFKA_BROKERS').split(',') });
const consumer = kafka.consumer({ groupId: process.env.GROUP_ID ?? 'tokenize-service' });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const vault = createClient({
  url: need('TOKENVAULT_URL'),
  clientId: need('TOKENVAULT_CLIENT_ID'),
  clientSecret: need('TOKENVAULT_CLIENT_SECRET'),
});
const tokenizer = createRecordTokenizer({ client: vault, policy: loadFieldPolicy(need('FIELDS')) });
const [rawTopic, cleanTopic, rejectTopic] = [need('RAW_TOPIC'), need('CLEAN_TOPIC'), process.env.REJECT_TOPIC];

await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topics: [rawTopic] });
await consumer.run({
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    // One tokenize round per consumed batch: values repeated across its events are sent once.
    const { clean, rejected } = await tokenizeBatch(tokenizer, batch.messages, process.env.KEY_PATH);
    await producer.send({ topic: cleanTopic, compression: CompressionTypes.GZIP, messages: clean });
    if (rejectTopic && rejected.length) {
      // Where and why, never the event: it still holds the plaintext the vault refused.
      await producer.send({
        topic: rejectTopic,
        messages: rejected.map((r) => ({ key: `${batch.topic}/${batch.partition}/${r.offset}`, value: JSON.stringify(r.problems) })),
      });
    }
    resolveOffset(batch.lastOffset());
    await commitOffsetsIfNecessary();
    await heartbeat();
  },
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([consumer.disconnect(), producer.disconnect()]).finally(() => process.exit(0));
  });
}

/**
 * Follows the vault's erasure feed and writes a tombstone (a null value keyed by the erased token)
 * to a compacted topic for each erased token, so compaction removes every event keyed by it.
 * Type-checked in CI; NOT run on the machines this was written on (no Kafka broker there).
 *
 *   KAFKA_BROKERS=localhost:9092 COMPACTED_TOPIC=profiles.clean CURSOR_FILE=erasure-cursor \
 *   TOKENVAULT_URL=… TOKENVAULT_CLIENT_ID=… TOKENVAULT_CLIENT_SECRET=… npx tsx examples/kafka/erasure-tombstones.ts
 *
 * The client needs the `erasures:read` scope. The cursor is stored only after Kafka acknowledged the
 * tombstones: a crash re-sends some (harmless: a tombstone twice is one tombstone), never skips one.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka } from 'kafkajs';
import { createClient } from 'tokenvault/client';
import { nextTombstones } from './pipeline.js';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

const cursorFile = need('CURSOR_FILE');
const topic = need('COMPACTED_TOPIC');
const pollMs = Number(process.env.POLL_MS ?? 5000);
const vault = createClient({
  url: need('TOKENVAULT_URL'),
  clientId: need('TOKENVAULT_CLIENT_ID'),
  clientSecret: need('TOKENVAULT_CLIENT_SECRET'),
});
const producer = new Kafka({ clientId: 'erasure-tombstones', brokers: need('KAFKA_BROKERS').split(',') }).producer({
  idempotent: true,
  maxInFlightRequests: 1,
});

let cursor = existsSync(cursorFile) ? readFileSync(cursorFile, 'utf8').trim() : '0';
let running = true;
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (running = false));

await producer.connect();
while (running) {
  const { tombstones, cursor: next, events } = await nextTombstones(vault, cursor);
  if (tombstones.length) await producer.send({ topic, acks: -1, messages: tombstones });
  if (next !== cursor) {
    // Write-then-rename: a crash leaves the old cursor or the new one, never half a file.
    writeFileSync(`${cursorFile}.tmp`, next);
    renameSync(`${cursorFile}.tmp`, cursorFile);
    cursor = next;
  }
  // A full page means more is waiting: fetch it now rather than after the poll interval.
  if (events.length < 1000) await sleep(pollMs);
}
await producer.disconnect();

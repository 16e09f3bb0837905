import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { createClient, VaultClientError } from '../client/index.js';
import { FieldPolicyError, loadFieldPolicy } from './field-policy.js';
import { textView } from './json-text.js';
import { createRecordTokenizer, type FieldProblem } from './record-tokenizer.js';

export const TOKENIZE_FILE_HELP = `tokenvault tokenize-file --fields fields.yaml [options] [in.jsonl|-] > out.jsonl

Replaces the configured fields of each JSON Lines record with tokens from a running vault; every
other byte of each line is written as it was. Records stay in input order.

  --fields <file>         field policy (YAML or JSON; see README "Ingest")
  --namespace <ns>        overrides the policy's namespace
  --url <url>             the vault (TOKENVAULT_URL)
  --client-id <id>        client credentials (TOKENVAULT_CLIENT_ID)
  --client-secret <s>     (TOKENVAULT_CLIENT_SECRET; prefer the variable: arguments show in ps)
  --rejected <file>       write rejected lines here (mode 600: they may hold plaintext)
  --chunk <n>             records per round of calls (default 10000)
  --concurrency <n>       requests in flight (default 4)
  --retry-timeout <s>     keep retrying an unreachable vault this long (default 120)
  --no-progress           no progress bar (it is shown only on a terminal anyway)

Exit codes: 0 every record written; 3 finished, but some records were rejected (not written;
see stderr and --rejected); 1 stopped early (vault unreachable past the retry window, refused
credentials, I/O): the first N lines of the output are complete, N is on stderr; 2 usage.`;

export interface CommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

/** Lines split on \\n only, so a \\r before it stays part of the line and is written back as it was. */
async function* lines(input: Readable, onBytes: (n: number) => void): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of input.setEncoding('utf8') as AsyncIterable<string>) {
    onBytes(Buffer.byteLength(chunk));
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest !== '') yield rest;
}

async function write(out: Writable, s: string): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

const MAX_PRINTED_PROBLEMS = 50;

export async function tokenizeFileCommand(args: string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  const usage = (m: string) => {
    io.stderr.write(`tokenvault tokenize-file: ${m}\n\n${TOKENIZE_FILE_HELP}\n`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        fields: { type: 'string' },
        namespace: { type: 'string' },
        url: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        rejected: { type: 'string' },
        chunk: { type: 'string', default: '10000' },
        concurrency: { type: 'string', default: '4' },
        'retry-timeout': { type: 'string', default: '120' },
        progress: { type: 'boolean', default: true },
        'no-progress': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) return (io.stderr.write(`${TOKENIZE_FILE_HELP}\n`), 0);
  const url = v.url ?? env.TOKENVAULT_URL;
  const clientId = v['client-id'] ?? env.TOKENVAULT_CLIENT_ID;
  const clientSecret = v['client-secret'] ?? env.TOKENVAULT_CLIENT_SECRET;
  if (!v.fields) return usage('--fields is required');
  if (!url || !clientId || !clientSecret)
    return usage(
      'the vault URL and client credentials are required (--url, --client-id, --client-secret or TOKENVAULT_URL, TOKENVAULT_CLIENT_ID, TOKENVAULT_CLIENT_SECRET)',
    );
  if (positionals.length > 1) return usage('one input file at most');
  const [chunk, concurrency, retrySeconds] = [Number(v.chunk), Number(v.concurrency), Number(v['retry-timeout'])];
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 100_000) return usage('--chunk must be 1 to 100000');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) return usage('--concurrency must be 1 to 64');
  if (!Number.isFinite(retrySeconds) || retrySeconds < 0) return usage('--retry-timeout must be a number of seconds');
  let policy;
  try {
    policy = loadFieldPolicy(v.fields);
  } catch (err) {
    if (err instanceof FieldPolicyError) return usage(err.message);
    throw err;
  }
  const file = positionals[0] && positionals[0] !== '-' ? positionals[0] : undefined;
  const input = file ? createReadStream(file) : io.stdin;

  let retries = 0;
  const client = createClient({
    url,
    clientId,
    clientSecret,
    concurrency,
    retry: { timeoutMs: retrySeconds * 1000 },
    onRetry: () => retries++,
  });
  const tokenizer = createRecordTokenizer({ client, policy, namespace: v.namespace });

  const showBar = v.progress && !v['no-progress'] && io.stderr.isTTY === true && file !== undefined;
  const bar = showBar
    ? new cliProgress.SingleBar(
        { stream: io.stderr, format: '{bar} {percentage}% | {records} records | {rate} records/s | ETA {eta_formatted}', etaBuffer: 50 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(statSync(file!).size, 0, { records: 0, rate: 0 });
  let bytes = 0;

  const started = Date.now();
  const counts = { written: 0, rejected: 0, dropped: 0, nulled: 0 };
  let lineNo = 0;
  let rejectedOut: WriteStream | undefined;
  const report = (line: number, what: string, problems: FieldProblem[]) => {
    if (counts.rejected + counts.dropped > MAX_PRINTED_PROBLEMS) return;
    // Paths and codes only: a problem never carries the value.
    io.stderr.write(`line ${line}: ${what}: ${problems.map((p) => `${p.path || '(record)'} ${p.code}`).join(', ')}\n`);
  };
  try {
    for await (const o of tokenizer.iterate(
      lines(input, (n) => (bytes += n)),
      { chunkRecords: chunk, chunksInFlight: concurrency, view: textView },
    )) {
      lineNo++;
      if (o.status === 'ok') {
        await write(io.stdout, `${o.record}\n`);
        counts.written++;
        counts.nulled += o.problems.length;
      } else if (o.status === 'dropped') {
        counts.dropped++;
        report(lineNo, 'dropped', o.problems);
      } else {
        counts.rejected++;
        report(lineNo, 'rejected', o.problems);
        if (v.rejected) {
          rejectedOut ??= createWriteStream(v.rejected, { mode: 0o600 });
          await write(rejectedOut, `${o.record}\n`);
        }
      }
      if (bar && lineNo % 1000 === 0)
        bar.update(bytes, { records: lineNo, rate: Math.round(lineNo / Math.max(0.001, (Date.now() - started) / 1000)) });
    }
  } catch (err) {
    bar?.stop();
    const why = err instanceof VaultClientError ? `${err.message}` : err instanceof Error ? err.message : String(err);
    io.stderr.write(
      `tokenvault tokenize-file: stopped: ${why}\n${lineNo} input line(s) done, ${counts.written} written; the output is complete up to there (resume with the input from line ${lineNo + 1}).\n`,
    );
    await new Promise((resolve) => io.stdout.write('', resolve));
    return 1;
  } finally {
    if (rejectedOut) await new Promise((resolve) => rejectedOut!.end(resolve));
  }
  bar?.update(bytes, { records: lineNo, rate: Math.round(lineNo / Math.max(0.001, (Date.now() - started) / 1000)) });
  bar?.stop();
  const secs = (Date.now() - started) / 1000;
  io.stderr.write(
    `tokenize-file: ${lineNo} records in ${secs.toFixed(1)} s (${Math.round(lineNo / Math.max(secs, 0.001))}/s): ${counts.written} written, ${counts.rejected} rejected, ${counts.dropped} dropped, ${counts.nulled} field(s) nulled; ${retries} retried request(s)\n`,
  );
  // The caller exits the process next: wait until the last output has left (stdout to a pipe is asynchronous).
  await new Promise((resolve) => io.stdout.write('', resolve));
  return counts.rejected > 0 ? 3 : 0;
}

import { SingleBar } from 'cli-progress';

/** Progress of a long CLI job: a bar with total, rate and ETA on a terminal, plain lines otherwise. */
export interface Progress {
  advance(n: number): void;
  stop(): void;
}

/** One plain line (logs, CI, pipes): what is done, of how many, how fast, how long still. */
export function progressLine(what: string, done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const left = Math.max(total - done, 0);
  const eta = rate > 0 ? `${Math.ceil(left / rate)}s` : 'unknown';
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  return `${what}: ${done}/${total} (${pct}%), ${Math.round(rate)}/s, ETA ${eta}`;
}

export function createProgress(opts: { what: string; total: number; stream: NodeJS.WriteStream; now?: () => number }): Progress {
  const now = opts.now ?? Date.now;
  const started = now();
  let done = 0;
  if (!opts.stream.isTTY) {
    return {
      advance(n) {
        done += n;
        opts.stream.write(`${progressLine(opts.what, done, opts.total, now() - started)}\n`);
      },
      stop() {},
    };
  }
  const bar = new SingleBar({
    stream: opts.stream,
    format: `${opts.what} {bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
    hideCursor: true,
    etaBuffer: 20,
  });
  bar.start(opts.total, 0, { rate: 0 });
  return {
    advance(n) {
      done += n;
      const seconds = (now() - started) / 1000;
      // More can turn up than was counted at the start (keys created meanwhile): grow the total.
      if (done > opts.total) bar.setTotal(done);
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0 });
    },
    stop: () => bar.stop(),
  };
}

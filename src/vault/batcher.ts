/**
 * Coalesces concurrent jobs: while a flush runs, new jobs queue, and the next flush takes them all
 * (up to maxJobs). One transaction and one commit then serve many requests, which is what lets
 * single-value requests approach the HTTP ceiling instead of the disk-flush ceiling.
 */
export function createBatcher<J, R>(opts: {
  maxJobs: number;
  concurrency: number;
  /**
   * Runs one flush. Calling `handOver` frees the flush's slot before it settles, so the next flush
   * can start its first steps while this one finishes (its commit, say).
   */
  run: (jobs: J[], handOver: () => void) => Promise<R[]>;
  /** When given, a flush beyond the first starts only if this holds for the queued jobs. */
  parallelWhen?: (queued: J[]) => boolean;
}) {
  const queue: { job: J; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running = 0;

  const mayStart = () =>
    running === 0 || (running < opts.concurrency && (!opts.parallelWhen || opts.parallelWhen(queue.map((q) => q.job))));

  function pump(): void {
    while (queue.length && mayStart()) {
      const batch = queue.splice(0, opts.maxJobs);
      running++;
      let slotHeld = true;
      const handOver = () => {
        if (!slotHeld) return;
        slotHeld = false;
        running--;
        pump();
      };
      opts
        .run(
          batch.map((b) => b.job),
          handOver,
        )
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(handOver);
    }
  }

  return {
    submit(job: J): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        pump();
      });
    },
  };
}

/**
 * Coalesces concurrent jobs: while a flush runs, new jobs queue, and the next flush takes them all
 * (up to maxJobs). One transaction and one commit then serve many requests, which is what lets
 * single-value requests approach the HTTP ceiling instead of the disk-flush ceiling.
 */
export function createBatcher<J, R>(opts: { maxJobs: number; concurrency: number; run: (jobs: J[]) => Promise<R[]> }) {
  const queue: { job: J; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let running = 0;

  function pump(): void {
    while (running < opts.concurrency && queue.length) {
      const batch = queue.splice(0, opts.maxJobs);
      running++;
      opts
        .run(batch.map((b) => b.job))
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          running--;
          pump();
        });
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

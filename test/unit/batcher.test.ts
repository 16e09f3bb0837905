import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/vault/batcher.js';

/** A batcher whose flushes wait until released, recording what each flush took and how many overlapped. */
function harness(opts: { concurrency: number; parallelWhen?: (queued: number[]) => boolean }) {
  const flushes: number[][] = [];
  const releases: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  const b = createBatcher<number, number>({
    maxJobs: 100,
    ...opts,
    run: async (jobs) => {
      flushes.push(jobs);
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return jobs.map((j) => j * 2);
    },
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setImmediate(r));
      releases.splice(0).forEach((r) => r());
    }
  };
  return { b, flushes, settle, maxRunning: () => maxRunning };
}

describe('batcher', () => {
  it('merges jobs that arrive while a flush runs into the next flush, and answers each its own result', async () => {
    const h = harness({ concurrency: 1 });
    const results = Promise.all([1, 2, 3, 4].map((j) => h.b.submit(j)));
    await h.settle();
    expect(await results).toEqual([2, 4, 6, 8]);
    expect(h.flushes).toEqual([[1], [2, 3, 4]]);
  });

  it('starts a second concurrent flush only when parallelWhen holds for the queue', async () => {
    const small = harness({ concurrency: 2, parallelWhen: (q) => q.reduce((s, j) => s + j, 0) >= 100 });
    await Promise.all([small.b.submit(1), small.b.submit(1), small.b.submit(1), small.settle()]);
    expect(small.maxRunning()).toBe(1);

    const big = harness({ concurrency: 2, parallelWhen: (q) => q.reduce((s, j) => s + j, 0) >= 100 });
    await Promise.all([big.b.submit(1), big.b.submit(500), big.settle()]);
    expect(big.maxRunning()).toBe(2);
    expect(big.flushes).toEqual([[1], [500]]);
  });

  it('a flush that hands over lets the next one start before it settles, and still answers its own jobs', async () => {
    const events: string[] = [];
    let finishFirst!: () => void;
    const b = createBatcher<number, number>({
      maxJobs: 10,
      concurrency: 1,
      run: async (jobs, handOver) => {
        events.push(`start ${jobs.join(',')}`);
        if (jobs[0] === 1) {
          handOver();
          handOver(); // a second call changes nothing
          await new Promise<void>((r) => (finishFirst = r));
        }
        events.push(`end ${jobs.join(',')}`);
        return jobs.map((j) => j * 10);
      },
    });
    const first = b.submit(1);
    const second = b.submit(2);
    const third = b.submit(3);
    expect(await second).toBe(20);
    expect(await third).toBe(30);
    expect(events).toEqual(['start 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    finishFirst();
    expect(await first).toBe(10);
  });

  it('a failing flush rejects every job in it, and the next flush still runs', async () => {
    let calls = 0;
    const b = createBatcher<number, number>({
      maxJobs: 10,
      concurrency: 1,
      run: async (jobs) => {
        if (calls++ === 0) throw new Error('boom');
        return jobs;
      },
    });
    const first = b.submit(1);
    const second = b.submit(2);
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe(2);
  });
});

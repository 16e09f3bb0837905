/**
 * A Zipf-distributed sampler over ranks 1…n: rank k is drawn with probability ∝ 1/k^s. With s = 1
 * over a million values, the 1,000 most frequent carry ~52% of the draws and the 100,000 most
 * frequent ~84%: a few subjects seen often, a long tail seen once.
 */
export function zipfSampler(n: number, s: number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += 1 / k ** s;
    cdf[k - 1] = total;
  }
  return () => {
    const u = Math.random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

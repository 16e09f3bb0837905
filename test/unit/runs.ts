/**
 * fast-check run counts. Under mutation testing (each mutant re-runs every test that covers it, on
 * a shared machine) properties run a twentieth as often, at least 50 times: the known-answer
 * vectors pin exact outputs, the properties are the wider net around them.
 */
export function runs(numRuns: number): { numRuns: number } {
  return { numRuns: process.env.STRYKER_MUTATOR_WORKER === undefined ? numRuns : Math.max(50, Math.ceil(numRuns / 20)) };
}

import fc from 'fast-check';

/**
 * The settings of every property test (fast-check) in the repository: one fixed seed,
 * so a run is the same on every machine and in CI, and a bounded number of runs per
 * property, so the whole fuzz suite stays well under a minute on two cores. A failure
 * prints the seed and the path of the shrunk counterexample; to replay or widen a run,
 * set VEXIL_FUZZ_SEED (a number) and VEXIL_FUZZ_RUNS (a multiplier, e.g. 50).
 */
export const FUZZ_SEED = Number(process.env.VEXIL_FUZZ_SEED ?? 0x5eed_15);

const RUNS_MULTIPLIER = Math.max(1, Number(process.env.VEXIL_FUZZ_RUNS ?? 1) || 1);

/** A fuzz test's time limit: vitest's default, times VEXIL_FUZZ_RUNS. */
export const FUZZ_TIMEOUT_MS = 20_000 * RUNS_MULTIPLIER;

/** Checks `property` `numRuns` times (times VEXIL_FUZZ_RUNS) from the fixed seed; throws with the seed on failure. */
export async function fuzz<Ts>(property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>, numRuns: number): Promise<void> {
  await fc.assert(property, { seed: FUZZ_SEED, numRuns: numRuns * RUNS_MULTIPLIER });
}

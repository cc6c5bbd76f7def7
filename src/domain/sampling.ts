/**
 * Reproducible uniform sampling for batch review. Pure: the same seed, the
 * same population size and the same count always give the same positions.
 * The caller orders the population deterministically (by escalation id) so
 * positions map back to the same actions.
 */

/** 128-bit seeds as 32 hex characters: recorded with the sample, typed back to redraw it. */
export const SEED_PATTERN = /^[0-9a-f]{32}$/;

/** sfc32 (Chris Doty-Humphrey's small fast counting PRNG): 128-bit state, passes PractRand, fast in JS. */
export function prng(seed: string): () => number {
  if (!SEED_PATTERN.test(seed)) throw new Error(`seed must be 32 lower-case hex characters, got "${seed}"`);
  let a = parseInt(seed.slice(0, 8), 16) >>> 0;
  let b = parseInt(seed.slice(8, 16), 16) >>> 0;
  let c = parseInt(seed.slice(16, 24), 16) >>> 0;
  let d = parseInt(seed.slice(24, 32), 16) >>> 0;
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  // Warm-up: an all-zero or low-entropy seed otherwise starts with correlated outputs.
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** A uniform integer in [0, n), n ≤ 2^32, without modulo bias (rejection sampling). */
export function uniformInt(next: () => number, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new Error(`n must be an integer in [1, 2^32], got ${n}`);
  const limit = Math.floor(2 ** 32 / n) * n;
  for (;;) {
    const x = next();
    if (x < limit) return x % n;
  }
}

/** How many of `population` a `percent` sample holds: rounded up, so any non-empty window yields at least one. */
export function sampleSize(population: number, percent: number): number {
  if (population <= 0) return 0;
  return Math.min(population, Math.ceil((population * percent) / 100));
}

/**
 * `k` distinct positions of [0, n), each k-subset equally likely (Floyd's
 * algorithm: O(k) time and memory, so a large window is never materialised).
 * Returned ascending.
 */
export function drawPositions(seed: string, n: number, k: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`population must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`sample size must be an integer in [0, ${n}], got ${k}`);
  const next = prng(seed);
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = uniformInt(next, j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((x, y) => x - y);
}

/** The sample itself: the population's members at the drawn positions. */
export function drawSample<T>(seed: string, population: readonly T[], percent: number): T[] {
  return drawPositions(seed, population.length, sampleSize(population.length, percent)).map((i) => population[i]!);
}

/** The bench's seeded PRNG, so randomized tests are reproducible from their seed. */
export { rng } from '../../bench/rng.js';

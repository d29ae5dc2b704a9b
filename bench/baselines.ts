/**
 * B0 storage ceiling: raw classic-level writes of the same bytes Append
 * stores (one value per 100×1 KiB batch), sequential, sync off and on. Runs
 * in a child process. Its rows are ceilings to read the append figures
 * against; the gRPC baselines are measured interleaved inside the append,
 * read and lifecycle scenarios.
 */
import { BASELINE_CHILD, type Rep } from './harness.js';
import type { Scenario } from './scenario.js';

export const LEVEL_BATCH = 100;

export function levelBaselineName(sync: boolean): string {
  return `baseline/level-put/batch=${LEVEL_BATCH}x1KiB/sync=${sync ? 'on' : 'off'}`;
}

function isRep(value: unknown): value is Rep {
  return typeof value === 'object' && value !== null && typeof (value as { value?: unknown }).value === 'number';
}

export const baselineScenarios: Scenario[] = [false, true].map((sync) => ({
  id: levelBaselineName(sync),
  title: `classic-level, one ${LEVEL_BATCH} KiB value per write, sync:${sync}, sequential (storage ceiling)`,
  modes: ['quick', 'full'],
  timeoutMs: { quick: 60_000, full: 120_000 },
  async run(ctx, scope) {
    const { warmUpMs, repMs, reps } = ctx.timing;
    const dir = scope.tempDir();
    const result = await scope.runToResult(
      BASELINE_CHILD,
      ['level', dir, sync ? 'on' : 'off', String(LEVEL_BATCH), String(warmUpMs), String(repMs), String(reps)],
      warmUpMs + reps * repMs + 30_000,
    );
    const measured = Array.isArray(result.reps) ? result.reps.filter(isRep) : [];
    if (measured.length !== reps) throw new Error(`level child reported ${measured.length} of ${reps} reps`);
    ctx.baselines.add(levelBaselineName(sync), 'rec/s', 'higher', measured, { inflight: 1 });
    scope.removeDir(dir);
    return [];
  },
}));

/**
 * What a scenario is, what it reports, and the pool that collects baseline
 * repetitions. A new scenario family is one file exporting `Scenario[]`,
 * listed in bench/scenarios.ts; nothing else needs to change.
 */
import { median, summarize, type Mode, type Rep, type Scope, type Summary } from './harness.js';

/** One row of the table and of bench/results/latest.json. */
export interface Result {
  name: string;
  /** median of the repetitions */
  value: number;
  unit: string;
  /** name of the baseline row this figure is compared with, or null for a baseline itself */
  baseline: string | null;
  /** the baseline measured interleaved with this figure (median of its reps) */
  baselineValue: number | null;
  /** value / baselineValue (see `better` for which way is good) */
  ratio: number | null;
  /** whether a higher or lower value is better (throughput vs time and memory) */
  better: 'higher' | 'lower';
  min: number;
  max: number;
  reps: number;
  p50Ms?: number;
  p99Ms?: number;
  /** extra figures (MB/s, shutdown time, …) and caveats */
  extra?: Record<string, number | string>;
}

export interface Timing {
  /** warm-up before measuring anything in a process (≥ 1 s) */
  warmUpMs: number;
  /** length of one timed repetition */
  repMs: number;
  reps: number;
}

export interface BenchContext {
  mode: Mode;
  timing: Timing;
  baselines: BaselinePool;
  /** progress line on stderr (stdout carries only the table) */
  progress(message: string): void;
}

export interface Scenario {
  /** stable id; result names start with it; `--only` matches it as a substring */
  id: string;
  /** one-line description for --list and the README */
  title: string;
  modes: readonly Mode[];
  /** upper bound for the whole scenario (processes included) */
  timeoutMs: Record<Mode, number>;
  run(ctx: BenchContext, scope: Scope): Promise<Result[]>;
}

/** Thrown by a scenario that cannot run against this build (e.g. an RPC not implemented yet). */
export class SkipScenario extends Error {
  override name = 'SkipScenario';
}

interface PoolEntry {
  unit: string;
  better: 'higher' | 'lower';
  reps: Rep[];
  extra?: Record<string, number | string>;
}

/**
 * Baseline repetitions, by baseline name. Scenarios measure their baseline
 * interleaved with themselves and add the reps here; the baseline's own row
 * is the median over every rep collected in the run.
 */
export class BaselinePool {
  private readonly entries = new Map<string, PoolEntry>();

  add(name: string, unit: string, better: 'higher' | 'lower', reps: readonly Rep[], extra?: Record<string, number | string>): Summary {
    let entry = this.entries.get(name);
    if (!entry) this.entries.set(name, (entry = { unit, better, reps: [], extra }));
    entry.reps.push(...reps);
    return summarize(reps);
  }

  rows(): Result[] {
    return [...this.entries].map(([name, e]) => {
      const { extra: measured, ...s } = summarize(e.reps);
      const extra = { ...measured, ...e.extra };
      return {
        name,
        ...s,
        unit: e.unit,
        baseline: null,
        baselineValue: null,
        ratio: null,
        better: e.better,
        ...(Object.keys(extra).length > 0 ? { extra } : {}),
      };
    });
  }
}

/** A measured row compared with its interleaved baseline reps. */
export function compared(
  name: string,
  unit: string,
  better: 'higher' | 'lower',
  reps: readonly Rep[],
  baseline: { name: string; reps: readonly Rep[] },
  extra?: Record<string, number | string>,
): Result {
  const { extra: measured, ...s } = summarize(reps);
  const baselineExtra = summarize(baseline.reps).extra ?? {};
  const allExtra: Record<string, number | string> = { ...measured, ...extra };
  // the baseline's own per-rep extras (its CPU cost, …) measured interleaved with this figure
  for (const [key, value] of Object.entries(baselineExtra)) allExtra[`baseline.${key}`] = value;
  const baselineValue = median(baseline.reps.map((r) => r.value));
  return {
    name,
    ...s,
    unit,
    baseline: baseline.name,
    baselineValue,
    ratio: baselineValue > 0 ? s.value / baselineValue : null,
    better,
    ...(Object.keys(allExtra).length > 0 ? { extra: allExtra } : {}),
  };
}

/**
 * `ctx.timing.reps` reps of a figure and of its baseline, alternating which
 * goes first, so that drift on a shared machine falls on both alike.
 */
export async function interleaved(
  ctx: BenchContext,
  label: string,
  base: (rep: number) => Promise<Rep>,
  ours: (rep: number) => Promise<Rep>,
): Promise<{ base: Rep[]; ours: Rep[] }> {
  const out = { base: [] as Rep[], ours: [] as Rep[] };
  for (let i = 0; i < ctx.timing.reps; i++) {
    ctx.progress(`${label} rep ${i + 1}`);
    if (i % 2 === 0) {
      out.base.push(await base(i));
      out.ours.push(await ours(i));
    } else {
      out.ours.push(await ours(i));
      out.base.push(await base(i));
    }
  }
  return out;
}

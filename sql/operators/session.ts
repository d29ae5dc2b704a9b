/**
 * SESSION(gap) windows (upstream's SQL docs): per group key, a row at ts merges
 * every session whose [start, end] intersects [ts − gap, ts + gap] into one
 * session [min start, max end] (accumulators merged) and updates it; a lone
 * row opens the session [ts, ts]. One output row per input row, carrying the
 * merged session; unlike upstream, the row has window_start / window_end
 * (the session's first and last row times, fix 16).
 *
 * Bounding state: a row older than clock − grace is dropped as late (upstream
 * never drops late session rows, but it also never releases sessions); a
 * session that no row can reach any more (end + gap < clock − grace) is
 * released by a periodic sweep.
 *
 * Must not import anything outside sql/.
 */
import { keyOf, type JsonValue } from '../values.js';
import type { GroupInputs, GroupOperator, GroupState } from './aggregate.js';
import type { Counters, StateBudget } from './counters.js';
import type { Tuple } from './env.js';

export class SessionAggregate implements GroupOperator {
  private readonly byKey = new Map<string, GroupState[]>();
  private nextSweep = -Infinity;

  constructor(
    readonly inputs: GroupInputs,
    private readonly gapMs: number,
    private readonly graceMs: number,
    private readonly budget: StateBudget,
    private readonly counters: Counters,
  ) {}

  update(rows: Tuple, time: number, clock: number): GroupState[] {
    const ts = time;
    if (ts < clock - this.graceMs) {
      this.counters.lateRows++;
      return [];
    }
    if (clock >= this.nextSweep) this.sweep(clock);
    const keys = this.inputs.keys(rows);
    const key = keyOf(keys);
    const sessions = this.byKey.get(key) ?? [];
    const touching = sessions.filter((s) => s.start <= ts + this.gapMs && s.end >= ts - this.gapMs);
    if (touching.length === 0) {
      this.budget.reserve(1, 'sessions');
      if (sessions.length === 0) this.byKey.set(key, sessions);
    }
    const args = this.inputs.args(rows);
    let session: GroupState;
    if (touching.length === 0) {
      session = { keys, accs: this.inputs.init(), start: ts, end: ts };
      sessions.push(session);
      this.budget.used++;
    } else {
      session = touching[0]!;
      for (const other of touching.slice(1)) {
        this.inputs.merge(session, other);
        session.start = Math.min(session.start, other.start);
        session.end = Math.max(session.end, other.end);
        sessions.splice(sessions.indexOf(other), 1);
        this.budget.used--;
      }
      session.start = Math.min(session.start, ts);
      session.end = Math.max(session.end, ts);
    }
    this.inputs.step(session, args);
    return [session];
  }

  private sweep(clock: number): void {
    const horizon = clock - this.graceMs;
    for (const [key, sessions] of this.byKey) {
      const live = sessions.filter((s) => s.end + this.gapMs >= horizon);
      this.budget.used -= sessions.length - live.length;
      if (live.length === 0) this.byKey.delete(key);
      else if (live.length !== sessions.length) this.byKey.set(key, live);
    }
    this.nextSweep = clock + Math.max(this.gapMs, 1000);
  }

  groups(): GroupState[] {
    return [...this.byKey.values()].flat().sort((a, b) => a.start - b.start);
  }

  snapshot(): JsonValue {
    return [...this.byKey.values()].flat().map((g) => this.inputs.toJson(g));
  }

  restore(j: JsonValue): void {
    for (const item of j as JsonValue[]) {
      const g = this.inputs.fromJson(item);
      const key = keyOf(g.keys);
      const list = this.byKey.get(key) ?? [];
      list.push(g);
      this.byKey.set(key, list);
      this.budget.used++;
    }
  }
}

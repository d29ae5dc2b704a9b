/**
 * Aggregate functions (upstream's SQL docs) as accumulator kinds: an initial state,
 * a step per input value, a merge (SESSION windows merge sessions), the
 * result, and a JSON form for snapshots. State is O(1) per group except
 * TOPK / TOPKDISTINCT, which keep at most k values (input is insert-only, so
 * the k largest seen so far are exact).
 *
 * Fixed upstream quirks (fixes 1–4): MIN/MAX return the true extremes and work
 * on every type (strings, dates…; see `extreme`), AVG is the mean, TOPK and
 * TOPKDISTINCT emit, NULLs are ignored (COUNT(e) counts non-NULL values, SUM
 * of only NULLs is NULL), and a value that cannot be aggregated (SUM of a
 * string) is skipped and counted instead of turning the column NULL forever.
 *
 * Must not import anything outside sql/.
 */
import type { AggregateName } from '../ast.js';
import { EvalError } from '../errors.js';
import { decodeValue, encodeValue, kindOf, KIND_NAMES, totalCompare, type JsonValue, type Value } from '../values.js';

/** an accumulator's state: a number, a Value, [sum, count], or a list of values */
export type AggState = Value;

export interface AggregateKind {
  init(): AggState;
  /** folds one (non-skipped) input; may mutate array states in place */
  step(s: AggState, v: Value): AggState;
  merge(a: AggState, b: AggState): AggState;
  result(s: AggState): Value;
  /** the state is the result (COUNT, SUM, MIN, MAX): no call needed */
  readonly stateIsResult?: boolean;
  toJson(s: AggState): JsonValue;
  fromJson(j: JsonValue): AggState;
}

const notNumber = (v: Value) => new EvalError(`expected a number, got ${KIND_NAMES[kindOf(v)]}`);

const COUNT_ALL: AggregateKind = {
  stateIsResult: true,
  init: () => 0,
  step: (s) => (s as number) + 1,
  merge: (a, b) => (a as number) + (b as number),
  result: (s) => s,
  toJson: (s) => s as number,
  fromJson: (j) => j as number,
};

const COUNT: AggregateKind = { ...COUNT_ALL, step: (s, v) => (v === null ? s : (s as number) + 1) };

const SUM: AggregateKind = {
  stateIsResult: true,
  init: () => null,
  step(s, v) {
    if (v === null) return s;
    if (typeof v !== 'number') throw notNumber(v);
    return s === null ? v : (s as number) + v;
  },
  merge: (a, b) => (a === null ? b : b === null ? a : (a as number) + (b as number)),
  result: (s) => s,
  toJson: (s) => s as number | null,
  fromJson: (j) => j as number | null,
};

/** state [sum, count] */
const AVG: AggregateKind = {
  init: () => [0, 0],
  step(s, v) {
    if (v === null) return s;
    if (typeof v !== 'number') throw notNumber(v);
    const st = s as number[];
    st[0]! += v;
    st[1]! += 1;
    return st;
  },
  merge: (a, b) => [(a as number[])[0]! + (b as number[])[0]!, (a as number[])[1]! + (b as number[])[1]!],
  result: (s) => ((s as number[])[1] === 0 ? null : (s as number[])[0]! / (s as number[])[1]!),
  toJson: (s) => [...(s as number[])],
  fromJson: (j) => [...(j as number[])],
};

/**
 * MIN / MAX under the total value order (values.ts `totalCompare`): within a
 * kind the natural order (numbers, strings by code point, dates…); across
 * kinds NULL < numbers < BOOLEAN < BYTEA < STRING < DATE < … . So they never
 * fail, and the result does not depend on arrival order (sessions merge).
 */
function extreme(sign: 1 | -1): AggregateKind {
  const pick = (a: AggState, b: Value): AggState => {
    if (b === null) return a;
    if (a === null) return b;
    if (typeof a === 'number' && typeof b === 'number') return sign * (b - a) > 0 ? b : a;
    return sign * totalCompare(b, a) > 0 ? b : a;
  };
  return {
    stateIsResult: true,
    init: () => null,
    step: pick,
    merge: pick,
    result: (s) => s,
    toJson: (s) => encodeValue(s),
    fromJson: (j) => decodeValue(j),
  };
}

/** the k largest values (descending), with or without duplicates */
function topK(k: number, distinct: boolean): AggregateKind {
  const insert = (list: Value[], v: Value): Value[] => {
    if (v === null) return list;
    if (list.length === k && totalCompare(v, list[k - 1]!) <= 0) return list;
    let i = 0;
    while (i < list.length && totalCompare(list[i]!, v) > 0) i++;
    if (distinct && i < list.length && totalCompare(list[i]!, v) === 0) return list;
    list.splice(i, 0, v);
    if (list.length > k) list.length = k;
    return list;
  };
  return {
    init: () => [],
    step: (s, v) => insert(s as Value[], v),
    merge: (a, b) => (b as Value[]).reduce<Value[]>((acc, v) => insert(acc, v), [...(a as Value[])]),
    result: (s) => [...(s as Value[])],
    toJson: (s) => encodeValue(s),
    fromJson: (j) => decodeValue(j),
  };
}

export function aggregateKind(fn: AggregateName, countAll: boolean, k?: number): AggregateKind {
  switch (fn) {
    case 'COUNT':
      return countAll ? COUNT_ALL : COUNT;
    case 'SUM':
      return SUM;
    case 'AVG':
      return AVG;
    case 'MIN':
      return extreme(-1);
    case 'MAX':
      return extreme(1);
    case 'TOPK':
      return topK(k!, false);
    case 'TOPKDISTINCT':
      return topK(k!, true);
  }
}

/**
 * Binder / validator: resolves stream tags (names and aliases) to FROM
 * positions, checks where aggregates may appear, checks GROUP BY coverage,
 * windows and joins, infers static types where literals, casts and functions
 * make them known, and names every output column (upstream's SQL docs).
 *
 * Streams are schemaless, so an unqualified column is resolved at run time
 * (first FROM source whose row has it) and a column's type is unknown; type
 * errors are only reported statically when both sides are known.
 *
 * Upstream quirks fixed here (the "fixes" table of sql/README.md): aggregates may appear inside expressions
 * (`SUM(a) + 1`, `ABS(MIN(a))`), HAVING may name an aggregate whether or not
 * it is aliased in SELECT, aggregates without GROUP BY aggregate the whole
 * stream, `SELECT *, x` keeps every column, and a select item that is neither
 * grouped nor aggregated is an error instead of silently vanishing.
 *
 * Must not import anything outside sql/.
 */
import type { ColumnRef, Expr, Name, SelectStatement, TableRef, WindowSpec, JoinType, Interval } from './ast.js';
import { SqlError, type SourcePos } from './errors.js';
import { SCALAR_FUNCTIONS, type StaticType } from './functions/scalar.js';
import { columnName, exprName } from './naming.js';
import { KIND_NAMES } from './values.js';

export type BindMode = 'push' | 'pull';

/** one stream occurrence in FROM, in FROM order */
export interface Leaf {
  index: number;
  stream: string;
  /** the alias if given, else the stream name: the tag of its fields (upstream's SQL docs) */
  tag: string;
  aliased: boolean;
}

export type BoundJoinCondition =
  | { k: 'on'; expr: Expr; equiKeys: Array<{ left: Expr; right: Expr }> }
  | { k: 'using'; columns: string[] }
  | { k: 'natural' }
  | { k: 'cross' };

export type SourceNode =
  | { k: 'scan'; leaf: Leaf }
  | { k: 'join'; type: JoinType; cond: BoundJoinCondition; within: Interval; left: SourceNode; right: SourceNode & { k: 'scan' }; leafCount: number };

export interface BoundKey {
  ref: ColumnRef;
  /** output column name */
  name: string;
  /** FROM position when the reference is qualified */
  leaf?: number;
}

export interface BoundAggregate {
  expr: Expr & { k: 'agg' };
  /** upstream name, e.g. `SUM(a)`; equal names are one aggregate */
  name: string;
  /** TOPK's k */
  k?: number;
}

export type BoundItem = { k: 'star' } | { k: 'streamStar'; leaf: number } | { k: 'expr'; name: string; expr: Expr };

export interface BoundSelect {
  mode: BindMode;
  select: SelectStatement;
  leaves: Leaf[];
  source: SourceNode;
  window?: WindowSpec;
  where?: Expr;
  /** GROUP BY present or any aggregate used */
  grouped: boolean;
  keys: BoundKey[];
  aggregates: BoundAggregate[];
  having?: Expr;
  items: BoundItem[];
}

export const WINDOW_COLUMNS = ['window_start', 'window_end'] as const;

const bindError = (message: string, pos: SourcePos) => new SqlError('bind', message, pos);

// the run-time kinds' names, plus the two types only the binder knows
const TYPE_LABEL: Record<StaticType, string> = { ...KIND_NAMES, any: 'value', number: 'Number' };
const article = (w: string) => (/^[AEIOU]/.test(w) ? 'an' : 'a');
const isNumeric = (t: StaticType) => t === 'int' || t === 'float' || t === 'number';
const isKnown = (t: StaticType) => t !== 'any' && t !== 'null';

function accepts(list: readonly StaticType[], t: StaticType): boolean {
  if (!isKnown(t) || list.includes(t)) return true;
  if (isNumeric(t) && list.includes('number')) return true;
  return t === 'number' && (list.includes('int') || list.includes('float'));
}

/** Walks an expression tree (aggregate arguments included). */
export function walk(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  switch (e.k) {
    case 'array':
      e.items.forEach((x) => walk(x, visit));
      break;
    case 'arith':
    case 'cmp':
    case 'and':
    case 'or':
    case 'json':
      walk(e.l, visit);
      walk(e.r, visit);
      break;
    case 'not':
    case 'index':
    case 'cast':
      walk(e.e, visit);
      break;
    case 'between':
      walk(e.e, visit);
      walk(e.lo, visit);
      walk(e.hi, visit);
      break;
    case 'call':
      e.args.forEach((x) => walk(x, visit));
      break;
    case 'agg':
      if (e.arg) walk(e.arg, visit);
      if (e.kArg) walk(e.kArg, visit);
      break;
  }
}

/** Walks an expression but not into aggregate arguments (what is evaluated after grouping). */
export function walkOutsideAggregates(e: Expr, visit: (e: Expr) => void): void {
  const go = (x: Expr): void => {
    visit(x);
    if (x.k === 'agg') return;
    switch (x.k) {
      case 'array':
        x.items.forEach(go);
        break;
      case 'arith':
      case 'cmp':
      case 'and':
      case 'or':
      case 'json':
        go(x.l);
        go(x.r);
        break;
      case 'not':
      case 'index':
      case 'cast':
        go(x.e);
        break;
      case 'between':
        go(x.e);
        go(x.lo);
        go(x.hi);
        break;
      case 'call':
        x.args.forEach(go);
        break;
    }
  };
  go(e);
}

const containsAggregate = (e: Expr) => {
  let found: (Expr & { k: 'agg' }) | undefined;
  walk(e, (x) => {
    if (x.k === 'agg' && !found) found = x;
  });
  return found;
};

export class Binder {
  readonly leaves: Leaf[] = [];
  private window?: WindowSpec;
  private readonly types = new WeakMap<Expr, StaticType>();

  constructor(
    private readonly select: SelectStatement,
    private readonly mode: BindMode,
  ) {}

  bind(): BoundSelect {
    const s = this.select;
    const source = this.bindSource(s.from, true);
    if (this.mode === 'pull' && (source.k !== 'scan' || this.window)) {
      throw bindError('a query without EMIT CHANGES reads one view: joins and time windows are not supported there', s.from.pos);
    }

    // WHERE
    if (s.where) {
      const agg = containsAggregate(s.where);
      if (agg) throw bindError('Aggregate functions are not allowed in WHERE clause', agg.pos);
      this.checkColumns(s.where, this.leaves.length);
      this.expectType(s.where, 'bool', 'WHERE');
    }

    // aggregates (SELECT and HAVING), in order of appearance, one per distinct name
    const aggregates: BoundAggregate[] = [];
    const collectAggs = (e: Expr) =>
      walk(e, (x) => {
        if (x.k !== 'agg') return;
        if (x.arg) {
          const nested = containsAggregate(x.arg) ?? (x.kArg && containsAggregate(x.kArg));
          if (nested) throw bindError('Nested set functions are not supported', nested.pos);
        }
        const name = exprName(x);
        if (aggregates.some((a) => a.name === name)) return;
        aggregates.push({ expr: x, name, k: this.bindAggregate(x) });
      });
    for (const item of s.items) if (item.k === 'expr') collectAggs(item.expr);
    if (s.having) collectAggs(s.having);

    const grouped = s.groupBy !== undefined || aggregates.length > 0;
    if (this.window && s.groupBy === undefined) {
      throw bindError(`Time window function \`${this.window.k}\` requires a \`GROUP BY\` CLAUSE`, this.window.pos);
    }
    if (s.having && !grouped) throw bindError('HAVING needs a GROUP BY clause or an aggregate function', s.having.pos);

    const keys: BoundKey[] = (s.groupBy ?? []).map((ref) => {
      if (!ref.stream && this.window && (WINDOW_COLUMNS as readonly string[]).includes(ref.column.name)) {
        throw bindError(`${ref.column.name} is a window column; it cannot be a GROUP BY key`, ref.pos);
      }
      return { ref, name: ref.column.name, leaf: ref.stream ? this.resolveTag(ref.stream, this.leaves.length) : undefined };
    });

    // SELECT items
    const items: BoundItem[] = [];
    for (const item of s.items) {
      if (item.k === 'star' || item.k === 'streamStar') {
        if (grouped) throw bindError('GROUP BY clause does not allow wildcards', item.pos);
        items.push(item.k === 'star' ? { k: 'star' } : { k: 'streamStar', leaf: this.resolveTag(item.stream, this.leaves.length) });
        continue;
      }
      if (!grouped) this.checkColumns(item.expr, this.leaves.length);
      else this.checkGrouped(item.expr, keys, undefined);
      this.typeOf(item.expr);
      items.push({ k: 'expr', name: item.alias ? item.alias.name : columnName(item.expr), expr: item.expr });
    }
    this.qualifyDuplicateNames(items);

    if (s.having) {
      const aliases = new Map(items.flatMap((it) => (it.k === 'expr' ? [[it.name, it.expr] as const] : [])));
      this.checkGrouped(s.having, keys, aliases);
      this.expectType(s.having, 'bool', 'HAVING');
    }

    return {
      mode: this.mode,
      select: s,
      leaves: this.leaves,
      source,
      window: this.window,
      where: s.where,
      grouped,
      keys,
      aggregates,
      having: s.having,
      items,
    };
  }

  // --- FROM ----------------------------------------------------------------------------------

  private bindSource(t: TableRef, top: boolean): SourceNode {
    if (t.k === 'stream') {
      if (t.window) {
        if (!top) throw bindError('time windows cannot be combined with joins', t.window.pos);
        this.checkWindow(t.window);
        this.window = t.window;
      }
      const leaf: Leaf = { index: this.leaves.length, stream: t.name.name, tag: t.alias ? t.alias.name : t.name.name, aliased: !!t.alias };
      this.leaves.push(leaf);
      return { k: 'scan', leaf };
    }
    const left = this.bindSource(t.left, false);
    const right = this.bindSource(t.right, false);
    if (right.k !== 'scan') throw bindError('the right side of a JOIN must be a stream', t.right.pos);
    const leafCount = this.leaves.length;
    let cond: BoundJoinCondition;
    switch (t.cond.k) {
      case 'on': {
        const agg = containsAggregate(t.cond.expr);
        if (agg) throw bindError('Aggregate functions are not allowed in JOIN condition', agg.pos);
        this.checkColumns(t.cond.expr, leafCount);
        this.expectType(t.cond.expr, 'bool', 'ON');
        cond = { k: 'on', expr: t.cond.expr, equiKeys: this.equiKeys(t.cond.expr, right.leaf.index) };
        break;
      }
      case 'using':
        cond = { k: 'using', columns: t.cond.columns.map((c) => c.name) };
        break;
      default:
        cond = t.cond;
    }
    return { k: 'join', type: t.type, cond, within: t.within, left, right, leafCount };
  }

  private checkWindow(w: WindowSpec): void {
    if (w.k === 'TUMBLE' && w.size.ms <= 0) throw bindError('a TUMBLE window needs a positive size', w.size.pos);
    if (w.k === 'SESSION' && w.gap.ms <= 0) throw bindError('a SESSION window needs a positive gap', w.gap.pos);
    if (w.k === 'HOP') {
      if (w.size.ms <= 0 || w.advance.ms <= 0) throw bindError('a HOP window needs a positive size and advance', w.pos);
      if (w.advance.ms > w.size.ms) throw bindError('a HOP window cannot advance by more than its size', w.advance.pos);
    }
  }

  /** `l = r` conjuncts of an ON condition where one side reads only the left input and the other only the right stream */
  private equiKeys(on: Expr, rightLeaf: number): Array<{ left: Expr; right: Expr }> {
    const conjuncts: Expr[] = [];
    const split = (e: Expr): void => {
      if (e.k === 'and') {
        split(e.l);
        split(e.r);
      } else conjuncts.push(e);
    };
    split(on);
    const side = (e: Expr): 'left' | 'right' | 'mixed' | 'none' => {
      let result: 'left' | 'right' | 'mixed' | 'none' = 'none';
      walk(e, (x) => {
        if (x.k !== 'col') return;
        if (!x.stream) {
          result = 'mixed'; // unqualified: resolved at run time, could be either side
          return;
        }
        const s = this.resolveTag(x.stream, rightLeaf + 1) === rightLeaf ? 'right' : 'left';
        result = result === 'none' ? s : result === s ? s : 'mixed';
      });
      return result;
    };
    const keys: Array<{ left: Expr; right: Expr }> = [];
    for (const c of conjuncts) {
      if (c.k !== 'cmp' || c.op !== '=') continue;
      const [a, b] = [side(c.l), side(c.r)];
      if (a === 'left' && b === 'right') keys.push({ left: c.l, right: c.r });
      else if (a === 'right' && b === 'left') keys.push({ left: c.r, right: c.l });
    }
    return keys;
  }

  /** the FROM position of a stream name or alias, among the first `visible` leaves */
  resolveTag(name: Name, visible: number): number {
    const matches = this.leaves.slice(0, visible).filter((l) => l.tag === name.name);
    if (matches.length > 1) throw bindError(`${name.raw} appears more than once in FROM; give each occurrence an alias`, name.pos);
    if (matches.length === 1) return matches[0]!.index;
    const aliased = this.leaves.slice(0, visible).find((l) => l.stream === name.name && l.aliased);
    if (aliased) throw bindError(`${name.raw} is known by its alias ${aliased.tag} here`, name.pos);
    if (this.leaves.some((l) => l.tag === name.name)) throw bindError(`${name.raw} is not joined yet at this point of FROM`, name.pos);
    throw bindError(`unknown stream or alias ${name.raw}`, name.pos);
  }

  /** every qualified column must name a visible stream */
  private checkColumns(e: Expr, visible: number): void {
    walk(e, (x) => {
      if (x.k === 'col' && x.stream) this.resolveTag(x.stream, visible);
    });
  }

  // --- grouping ------------------------------------------------------------------------------

  /** the key a column reference denotes, if any */
  keyIndex(ref: { stream?: Name; column: Name }, keys: BoundKey[]): number {
    return keys.findIndex((k) => {
      if (k.ref.column.name !== ref.column.name) return false;
      if (!ref.stream || k.leaf === undefined) return true;
      return this.resolveTag(ref.stream, this.leaves.length) === k.leaf;
    });
  }

  isWindowColumn(ref: { stream?: Name; column: Name }): boolean {
    return !!this.window && !ref.stream && (WINDOW_COLUMNS as readonly string[]).includes(ref.column.name);
  }

  /** outside aggregates, a grouped expression may only read keys, window columns and (in HAVING) select aliases */
  private checkGrouped(e: Expr, keys: BoundKey[], aliases: ReadonlyMap<string, Expr> | undefined): void {
    walk(e, (x) => {
      if (x.k === 'col' && x.stream) this.resolveTag(x.stream, this.leaves.length);
    });
    walkOutsideAggregates(e, (x) => {
      if (x.k !== 'col') return;
      if (this.keyIndex(x, keys) >= 0 || this.isWindowColumn(x)) return;
      if (aliases && !x.stream && aliases.has(x.column.name)) return;
      const shown = x.stream ? `${x.stream.raw}.${x.column.raw}` : x.column.raw;
      throw bindError(`Select item ${shown} does not appear in the GROUP BY clause and is not inside an aggregate function`, x.pos);
    });
  }

  /** TOPK's k must be a positive integer constant; returns it */
  private bindAggregate(a: Expr & { k: 'agg' }): number | undefined {
    if (a.arg) {
      const t = this.typeOf(a.arg);
      if ((a.fn === 'SUM' || a.fn === 'AVG') && isKnown(t) && !isNumeric(t)) {
        throw bindError(`Expected a numeric expression but got ${article(TYPE_LABEL[t])} ${TYPE_LABEL[t]}`, a.arg.pos);
      }
    }
    if (a.fn !== 'TOPK' && a.fn !== 'TOPKDISTINCT') return undefined;
    const k = a.kArg!;
    if (k.k !== 'int' || k.value <= 0) throw bindError(`the k of ${a.fn} must be a positive integer constant`, k.pos);
    if (k.value > 10_000) throw bindError(`the k of ${a.fn} can be at most 10000`, k.pos);
    return k.value;
  }

  /** SELECT a.k, b.k over a join would give two `k`: like upstream both are written with their tag */
  private qualifyDuplicateNames(items: BoundItem[]): void {
    const counts = new Map<string, number>();
    for (const it of items) if (it.k === 'expr') counts.set(it.name, (counts.get(it.name) ?? 0) + 1);
    for (const it of items) {
      if (it.k === 'expr' && it.expr.k === 'col' && it.expr.stream && counts.get(it.name)! > 1 && it.name === it.expr.column.name) {
        it.name = `${this.leaves[this.resolveTag(it.expr.stream, this.leaves.length)]!.tag}.${it.name}`;
      }
    }
  }

  // --- static types --------------------------------------------------------------------------

  private expectType(e: Expr, want: 'bool', where: string): void {
    const t = this.typeOf(e);
    if (isKnown(t) && t !== want) throw bindError(`${where} expects a Boolean expression but got ${article(TYPE_LABEL[t])} ${TYPE_LABEL[t]}`, e.pos);
  }

  private numeric(e: Expr): StaticType {
    const t = this.typeOf(e);
    if (isKnown(t) && !isNumeric(t)) throw bindError(`Expected a numeric expression but got ${article(TYPE_LABEL[t])} ${TYPE_LABEL[t]}`, e.pos);
    return t;
  }

  private boolean(e: Expr): void {
    const t = this.typeOf(e);
    if (isKnown(t) && t !== 'bool') throw bindError(`Expected a Boolean expression but got ${article(TYPE_LABEL[t])} ${TYPE_LABEL[t]}`, e.pos);
  }

  private comparable(a: Expr, b: Expr, pos: SourcePos): void {
    const [ta, tb] = [this.typeOf(a), this.typeOf(b)];
    if (!isKnown(ta) || !isKnown(tb)) return;
    if (isNumeric(ta) && isNumeric(tb)) return;
    if (ta !== tb) throw bindError(`Cannot compare ${article(TYPE_LABEL[ta])} ${TYPE_LABEL[ta]} with ${article(TYPE_LABEL[tb])} ${TYPE_LABEL[tb]}`, pos);
  }

  /**
   * Memoized: several rules type a subexpression more than once (a call checks its
   * arguments, then ABS / IFNULL look at them again), which without the cache is
   * exponential in the nesting of calls (`ABS(ABS(…))` 20 deep took over 30 s).
   */
  typeOf(e: Expr): StaticType {
    let t = this.types.get(e);
    if (t === undefined) {
      t = this.computeType(e);
      this.types.set(e, t);
    }
    return t;
  }

  private computeType(e: Expr): StaticType {
    switch (e.k) {
      case 'int':
        return 'int';
      case 'float':
        return 'float';
      case 'string':
        return 'string';
      case 'bool':
        return 'bool';
      case 'null':
        return 'null';
      case 'date':
      case 'time':
      case 'timestamp':
      case 'interval':
        return e.k;
      case 'col':
        return this.isWindowColumn(e) ? 'timestamp' : 'any';
      case 'array':
        e.items.forEach((x) => this.typeOf(x));
        return 'array';
      case 'arith': {
        const [l, r] = [this.numeric(e.l), this.numeric(e.r)];
        if (l === 'null' || r === 'null') return 'null';
        if (l === 'int' && r === 'int') return 'int';
        if (l === 'float' || r === 'float') return 'float';
        return 'number';
      }
      case 'cmp':
        this.comparable(e.l, e.r, e.pos);
        return 'bool';
      case 'and':
      case 'or':
        this.boolean(e.l);
        this.boolean(e.r);
        return 'bool';
      case 'not':
        this.boolean(e.e);
        return 'bool';
      case 'between':
        this.comparable(e.e, e.lo, e.pos);
        this.comparable(e.e, e.hi, e.pos);
        return 'bool';
      case 'json': {
        const l = this.typeOf(e.l);
        if (isKnown(l) && l !== 'json') throw bindError(`Expected a Jsonb expression but got ${article(TYPE_LABEL[l])} ${TYPE_LABEL[l]}`, e.l.pos);
        const r = this.typeOf(e.r);
        const wantPath = e.op === '#>' || e.op === '#>>';
        if (isKnown(r) && (wantPath ? r !== 'array' : r !== 'string' && !isNumeric(r))) {
          throw bindError(`${e.op} expects ${wantPath ? 'an Array path' : 'a String key'} but got ${article(TYPE_LABEL[r])} ${TYPE_LABEL[r]}`, e.r.pos);
        }
        return e.op === '->>' || e.op === '#>>' ? 'string' : 'any';
      }
      case 'index': {
        const t = this.typeOf(e.e);
        if (isKnown(t) && t !== 'array') throw bindError(`Expected an Array expression but got ${article(TYPE_LABEL[t])} ${TYPE_LABEL[t]}`, e.e.pos);
        if (e.slice && e.from !== undefined && e.to !== undefined && e.from > e.to) throw bindError('an array slice [i:j] needs i <= j', e.pos);
        return e.slice ? 'array' : 'any';
      }
      case 'cast': {
        this.typeOf(e.e);
        if (e.type.arrayDepth > 0) return 'array';
        const map: Record<string, StaticType> = {
          INTEGER: 'int',
          FLOAT: 'float',
          BOOLEAN: 'bool',
          BYTEA: 'bytes',
          STRING: 'string',
          DATE: 'date',
          TIME: 'time',
          TIMESTAMP: 'timestamp',
          INTERVAL: 'interval',
          JSONB: 'json',
        };
        return map[e.type.base]!;
      }
      case 'call': {
        const fn = SCALAR_FUNCTIONS.get(e.fn)!;
        e.args.forEach((a, i) => {
          const t = this.typeOf(a);
          const want = fn.args[i];
          if (want && !accepts(want, t)) {
            const expected = want.map((w) => TYPE_LABEL[w]).join(' or ');
            throw bindError(`${fn.name} expects ${article(expected)} ${expected} but got ${article(TYPE_LABEL[t])} ${TYPE_LABEL[t]}`, a.pos);
          }
        });
        if (e.fn === 'IFNULL') {
          const [a, b] = [this.typeOf(e.args[0]!), this.typeOf(e.args[1]!)];
          return a === b ? a : 'any';
        }
        if (e.fn === 'ABS') return this.typeOf(e.args[0]!) === 'int' ? 'int' : this.typeOf(e.args[0]!) === 'float' ? 'float' : 'number';
        return fn.result;
      }
      case 'agg':
        switch (e.fn) {
          case 'COUNT':
            return 'int';
          case 'AVG':
            return 'float';
          case 'SUM':
            return 'number';
          case 'TOPK':
          case 'TOPKDISTINCT':
            return 'array';
          default:
            return e.arg ? this.typeOf(e.arg) : 'any';
        }
    }
  }
}

export function bindSelect(select: SelectStatement, mode: BindMode): BoundSelect {
  return new Binder(select, mode).bind();
}

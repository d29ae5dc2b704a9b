/**
 * SqlError: every failure the SQL engine reports. `phase` says which stage
 * refused the text (lex, parse, bind, plan) or the running query (runtime);
 * parse-time errors carry the 1-based line and column of the offending token
 * and say so in the message ("… at line L, column C"), like upstream's
 * `Parse exception at <line L, column C>`.
 *
 * Must not import anything outside sql/.
 */
export type SqlPhase = 'lex' | 'parse' | 'bind' | 'plan' | 'runtime';

export interface SourcePos {
  line: number;
  column: number;
  /** character offset in the statement text */
  offset: number;
}

export class SqlError extends Error {
  override name = 'SqlError';
  readonly phase: SqlPhase;
  readonly line?: number;
  readonly column?: number;
  /** the message without the position suffix */
  readonly detail: string;

  constructor(phase: SqlPhase, detail: string, pos?: { line: number; column: number }) {
    super(pos ? `${detail} at line ${pos.line}, column ${pos.column}` : detail);
    this.phase = phase;
    this.detail = detail;
    if (pos) {
      this.line = pos.line;
      this.column = pos.column;
    }
  }
}

/**
 * A value-level failure inside expression evaluation (type mismatch, bad
 * cast, index out of range…). Never leaves the engine: each operator decides
 * what it means (upstream's SQL docs: WHERE drops the row, a projected
 * expression becomes NULL, an aggregate skips the value).
 */
export class EvalError extends Error {
  override name = 'EvalError';
}

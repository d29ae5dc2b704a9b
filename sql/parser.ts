/**
 * Recursive-descent parser for the v1 dialect (grammar: upstream
 * `hstream-sql/etc/SQL-v1.cf`). Produces statements whose SELECTs are the AST
 * of ./ast.ts, every node with its position.
 *
 * Precedence follows upstream (upstream's SQL docs) with one deliberate change (fix 11):
 * scalar-function calls are atoms and the JSON operators bind tighter than
 * arithmetic, so `ABS(a) + 1` and `c->'n' * 2` parse. Column names are still
 * printed with upstream's levels (./naming.ts), so the same tree gets the same
 * name whichever way it was written.
 *
 * Must not import anything outside sql/.
 */
import type {
  AggregateName,
  ColumnRef,
  CompareOp,
  Expr,
  Interval,
  IntervalUnit,
  JoinCondition,
  JoinType,
  JsonOp,
  Name,
  ScalarTypeName,
  SelectItem,
  SelectStatement,
  SqlType,
  TableRef,
  WindowSpec,
} from './ast.js';
import { SqlError, type SourcePos } from './errors.js';
import { SCALAR_FUNCTIONS } from './functions/scalar.js';
import { Lexer, type Token } from './lexer.js';
import {
  encodeValue,
  parseDate,
  parseTime,
  parseTimestamp,
  render,
  SqlDate,
  SqlInterval,
  SqlTime,
  SqlTimestamp,
  type JsonValue,
  type Row,
  type Value,
} from './values.js';

export interface StreamOptions {
  replicationFactor?: number;
  /** seconds */
  backlogDuration?: number;
  shardCount?: number;
}

export type Statement =
  | { kind: 'createStream'; name: string; options: StreamOptions }
  | { kind: 'createStreamAs'; name: string; select: SelectStatement; options: StreamOptions; text: string }
  | { kind: 'createView'; name: string; select: SelectStatement; text: string }
  | { kind: 'insertValues'; stream: string; row: Row }
  | { kind: 'insertRaw'; stream: string; payload: { json: Row } | { bytes: Buffer } }
  | { kind: 'insertSelect'; stream: string; select: SelectStatement; text: string }
  | { kind: 'select'; select: SelectStatement; emitChanges: boolean; text: string }
  | { kind: 'drop'; object: 'stream' | 'view' | 'query' | 'connector'; name: string; ifExists: boolean }
  | { kind: 'show'; object: 'streams' | 'queries' | 'views' | 'connectors' }
  | { kind: 'terminate'; queryId: string }
  | { kind: 'explain'; statement: Statement }
  | {
      kind: 'createConnector';
      connectorType: ConnectorType;
      name: string;
      /** the external system: mysql, postgresql, … (checked by the server, not here) */
      target: string;
      /** `IF NOT EXIST` was written; upstream parses it and then ignores it, and so do we */
      ifNotExist: boolean;
      /** the WITH options in the order written; a repeated key keeps its first value */
      options: Record<string, JsonValue>;
    }
  | { kind: 'pauseConnector'; name: string }
  | { kind: 'resumeConnector'; name: string };

export type ConnectorType = 'SOURCE' | 'SINK';

/** upstream's wording, kept so that scripts matching it keep working */
export const CONNECTOR_NON_LITERAL = 'Connector Property should be const literal expression';

const UNIT_MS: Record<IntervalUnit, number> = {
  SECOND: 1000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
  MONTH: 30 * 86_400_000,
  YEAR: 360 * 86_400_000,
};

/** keywords that structure a statement: never worth the "write it in double quotes" hint */
const STRUCTURAL: ReadonlySet<string> = new Set(
  'SELECT FROM WHERE GROUP BY HAVING AS ON JOIN AND OR NOT EMIT CHANGES WITHIN USING INNER LEFT RIGHT FULL CROSS NATURAL OUTER VALUES INTO WITH CREATE INSERT DROP SHOW TERMINATE EXPLAIN BETWEEN SYMMETRIC IF EXISTS'.split(' '),
);
const quoteHint = (t: Token) => (STRUCTURAL.has(t.text) ? '' : ` (${t.text} is a reserved word; write a column of that name in double quotes: "${t.raw}")`);

const AGGREGATES: ReadonlySet<string> = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'TOPK', 'TOPKDISTINCT']);
const TYPE_NAMES: ReadonlySet<string> = new Set(['INTEGER', 'FLOAT', 'BOOLEAN', 'BYTEA', 'STRING', 'DATE', 'TIME', 'TIMESTAMP', 'INTERVAL', 'JSONB']);
const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '<>', '<', '>', '<=', '>=']);
const JSON_OPS: ReadonlySet<string> = new Set(['->', '->>', '#>', '#>>']);
/**
 * Deepest expression tree accepted, and deepest nesting of parentheses, calls and arrays
 * (each costs the parser about 14 frames). Both are a fraction of what a default V8 stack
 * takes cold (the passes broke at about 1,000 levels), so there is room for the gRPC stack
 * below them.
 */
export const MAX_EXPRESSION_DEPTH = 256;
export const MAX_EXPRESSION_NESTING = 128;
/** AND/OR chains up to this many terms keep their left-deep shape; longer ones are balanced. */
const LEFT_DEEP_CHAIN_MAX = 64;

/** a stream, view, query or connector name written in double quotes (upstream's HIdent rule) */
const HIDENT = /^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff][A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff_'-]*$/;

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'keyword':
      return `keyword ${t.text}`;
    case 'ident':
      return `identifier ${t.raw}`;
    case 'qident':
      return `quoted identifier ${t.raw}`;
    case 'string':
      return `string ${t.raw.length > 40 ? t.raw.slice(0, 37) + '…' : t.raw}`;
    default:
      return `"${t.raw}"`;
  }
}

export class Parser {
  private i = 0;
  private nesting = 0;
  /** tokens read so far; the lexer runs only as far as the parser looks */
  private readonly tokens: Token[] = [];
  private readonly lexer: Lexer;

  constructor(private readonly text: string) {
    this.lexer = new Lexer(text);
  }

  // --- token helpers -------------------------------------------------------------------------

  private peek(ahead = 0): Token {
    const want = this.i + ahead;
    while (this.tokens.length <= want && this.tokens[this.tokens.length - 1]?.kind !== 'eof') this.tokens.push(this.lexer.next());
    return this.tokens[Math.min(want, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isKw(kw: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'keyword' && t.text === kw;
  }
  private isOp(op: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'op' && t.text === op;
  }
  private acceptKw(kw: string): boolean {
    if (!this.isKw(kw)) return false;
    this.i++;
    return true;
  }
  private acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }
  private fail(expected: string, t: Token = this.peek()): never {
    if (t.kind === 'eof') throw new SqlError('parse', `syntax error at end of input: expected ${expected}`, t.pos);
    throw new SqlError('parse', `syntax error: expected ${expected}, found ${describe(t)}`, t.pos);
  }
  private expectKw(kw: string): Token {
    if (!this.isKw(kw)) this.fail(kw);
    return this.next();
  }
  private expectOp(op: string): Token {
    if (!this.isOp(op)) this.fail(`"${op}"`);
    return this.next();
  }

  // --- statements ----------------------------------------------------------------------------

  parseStatement(): Statement {
    const stmt = this.statement();
    if (!this.isOp(';')) {
      if (this.peek().kind === 'eof') {
        throw new SqlError('parse', 'syntax error at end of file: expected a ";" at the end of a statement', this.peek().pos);
      }
      this.fail('";"');
    }
    this.next();
    if (this.peek().kind !== 'eof') throw new SqlError('parse', 'syntax error: only one statement is allowed per request', this.peek().pos);
    checkTreeDepth(stmt);
    return stmt;
  }

  private statement(): Statement {
    const t = this.peek();
    if (t.kind !== 'keyword') this.fail('a statement (SELECT, CREATE, INSERT, SHOW, DROP, TERMINATE, EXPLAIN)');
    switch (t.text) {
      case 'SELECT': {
        const select = this.select();
        const emitChanges = this.emitChanges();
        return { kind: 'select', select, emitChanges, text: this.text };
      }
      case 'CREATE':
        return this.create();
      case 'INSERT':
        return this.insert();
      case 'SHOW': {
        this.next();
        const o = this.next();
        const objects: Record<string, 'streams' | 'queries' | 'views' | 'connectors'> = {
          STREAMS: 'streams',
          QUERIES: 'queries',
          VIEWS: 'views',
          CONNECTORS: 'connectors',
        };
        const object = o.kind === 'keyword' ? objects[o.text] : undefined;
        if (!object) this.fail('STREAMS, QUERIES, VIEWS or CONNECTORS', o);
        return { kind: 'show', object };
      }
      case 'DROP': {
        this.next();
        const o = this.next();
        const objects: Record<string, 'stream' | 'view' | 'query' | 'connector'> = { STREAM: 'stream', VIEW: 'view', QUERY: 'query', CONNECTOR: 'connector' };
        const object = o.kind === 'keyword' ? objects[o.text] : undefined;
        if (!object) this.fail('STREAM, VIEW, QUERY or CONNECTOR', o);
        // upstream writes IF EXISTS after the name; the usual SQL place before it is accepted too
        let ifExists = this.ifExists();
        const name = this.hident().name;
        ifExists = this.ifExists() || ifExists;
        return { kind: 'drop', object, name, ifExists };
      }
      case 'TERMINATE':
        this.next();
        this.expectKw('QUERY');
        return { kind: 'terminate', queryId: this.hident().name };
      case 'EXPLAIN': {
        this.next();
        const at = this.peek();
        if (this.isKw('SELECT')) {
          const select = this.select();
          const emitChanges = this.emitChanges();
          return { kind: 'explain', statement: { kind: 'select', select, emitChanges, text: this.text } };
        }
        if (this.isKw('CREATE') || this.isKw('INSERT')) {
          const inner = this.isKw('CREATE') ? this.create() : this.insert();
          if (inner.kind === 'createStream') {
            throw new SqlError('bind', 'EXPLAIN can not give any execution plan for CREATE STREAM without a SELECT clause', at.pos);
          }
          if (inner.kind === 'createConnector') {
            throw new SqlError('bind', 'EXPLAIN can not give any execution plan for CREATE CONNECTOR', at.pos);
          }
          if (inner.kind !== 'createStreamAs' && inner.kind !== 'createView' && inner.kind !== 'insertSelect') {
            throw new SqlError('bind', 'EXPLAIN can not give any execution plan for INSERT without a SELECT clause', at.pos);
          }
          return { kind: 'explain', statement: inner };
        }
        return this.fail('SELECT or CREATE after EXPLAIN');
      }
      case 'PAUSE':
      case 'RESUME': {
        this.next();
        const what = this.next();
        if (!(what.kind === 'keyword' && (what.text === 'QUERY' || what.text === 'CONNECTOR'))) this.fail('QUERY or CONNECTOR', what);
        if (what.text === 'CONNECTOR') {
          const name = this.hident().name;
          return t.text === 'PAUSE' ? { kind: 'pauseConnector', name } : { kind: 'resumeConnector', name };
        }
        // upstream parses PAUSE/RESUME QUERY but its server never implemented them (fix 18)
        throw new SqlError(
          'parse',
          `${t.text} QUERY is not supported as a SQL statement by hstreamlite${t.text === 'RESUME' ? ' (use the ResumeQuery RPC)' : ''}`,
          t.pos,
        );
      }
      default:
        return this.fail('a statement (SELECT, CREATE, INSERT, SHOW, DROP, TERMINATE, EXPLAIN)');
    }
  }

  private ifExists(): boolean {
    if (!this.isKw('IF')) return false;
    this.next();
    this.expectKw('EXISTS');
    return true;
  }

  /** `EMIT CHANGES` if present */
  private emitChanges(): boolean {
    if (!this.acceptKw('EMIT')) return false;
    this.expectKw('CHANGES');
    return true;
  }

  private create(): Statement {
    this.expectKw('CREATE');
    if (this.acceptKw('VIEW')) {
      const name = this.hident().name;
      this.expectKw('AS');
      const select = this.select();
      // CREATE … AS SELECT … EMIT CHANGES is a common spelling (older docs); it means the same
      this.emitChanges();
      return { kind: 'createView', name, select, text: this.text };
    }
    if (this.isKw('SOURCE') || this.isKw('SINK')) return this.createConnector();
    if (this.isKw('CONNECTOR')) this.fail('SOURCE or SINK before CONNECTOR (CREATE SOURCE CONNECTOR … FROM …, CREATE SINK CONNECTOR … TO …)');
    if (!this.isKw('STREAM')) this.fail('STREAM, VIEW, SOURCE CONNECTOR or SINK CONNECTOR after CREATE');
    this.expectKw('STREAM');
    const name = this.hident().name;
    if (this.isOp('(')) {
      throw new SqlError('parse', 'CREATE STREAM with a column list is schema mode, which hstreamlite does not have (streams are schemaless)', this.peek().pos);
    }
    if (this.acceptKw('AS')) {
      const select = this.select();
      this.emitChanges();
      const options = this.isKw('WITH') ? this.streamOptions() : {};
      return { kind: 'createStreamAs', name, select, options, text: this.text };
    }
    const options = this.isKw('WITH') ? this.streamOptions() : {};
    return { kind: 'createStream', name, options };
  }

  private streamOptions(): StreamOptions {
    this.expectKw('WITH');
    this.expectOp('(');
    const options: StreamOptions = {};
    if (!this.isOp(')')) {
      do {
        const t = this.next();
        if (t.kind === 'keyword' && t.text === 'REPLICATE') {
          this.expectOp('=');
          const { value, pos } = this.signedInteger();
          if (value <= 0) throw new SqlError('bind', 'Replicate factor can only be positive integers', pos);
          options.replicationFactor = value;
        } else if (t.kind === 'keyword' && t.text === 'DURATION') {
          this.expectOp('=');
          options.backlogDuration = Math.floor(this.interval().ms / 1000);
        } else if (t.kind === 'ident' && t.text.toUpperCase() === 'SHARD_COUNT') {
          // hstreamlite extension: upstream's CREATE STREAM cannot choose the shard count
          this.expectOp('=');
          const { value, pos } = this.signedInteger();
          if (value <= 0) throw new SqlError('bind', 'SHARD_COUNT can only be a positive integer', pos);
          options.shardCount = value;
        } else {
          this.fail('a stream option (REPLICATE = n, DURATION = INTERVAL n UNIT, SHARD_COUNT = n)', t);
        }
      } while (this.acceptOp(','));
    }
    this.expectOp(')');
    return options;
  }

  /**
   * `SOURCE|SINK CONNECTOR name FROM|TO target [IF NOT EXIST] WITH (key = literal, …)`, CREATE
   * already read. The options become the connector's JSON config, so only literals are taken:
   * an expression would have no row to be evaluated against.
   */
  private createConnector(): Statement {
    const typeToken = this.next();
    const connectorType: ConnectorType = typeToken.text === 'SOURCE' ? 'SOURCE' : 'SINK';
    this.expectKw('CONNECTOR');
    const name = this.hident().name;
    const direction = connectorType === 'SOURCE' ? 'FROM' : 'TO';
    const wrong = connectorType === 'SOURCE' ? 'TO' : 'FROM';
    if (this.isKw(wrong)) {
      throw new SqlError(
        'parse',
        `a ${connectorType} connector is written ${direction} its target: CREATE ${connectorType} CONNECTOR ${name} ${direction} target WITH (…)`,
        this.peek().pos,
      );
    }
    if (!this.isKw(direction)) this.fail(`${direction} and the connector's target (CREATE ${connectorType} CONNECTOR ${name} ${direction} target WITH (…))`);
    this.next();
    const target = this.hident().name;
    let ifNotExist = false;
    if (this.acceptKw('IF')) {
      this.expectKw('NOT');
      // upstream's grammar has EXIST here; refusing EXISTS keeps every statement we take one upstream takes too
      if (this.isKw('EXISTS')) this.fail('EXIST (connectors are written IF NOT EXIST, without the S)');
      this.expectKw('EXIST');
      ifNotExist = true;
    }
    if (!this.isKw('WITH')) this.fail(`WITH (key = value, …): a connector needs its options (CREATE ${connectorType} CONNECTOR ${name} ${direction} ${target} WITH (…))`);
    const options = this.connectorOptions();
    return { kind: 'createConnector', connectorType, name, target, ifNotExist, options };
  }

  private connectorOptions(): Record<string, JsonValue> {
    this.expectKw('WITH');
    this.expectOp('(');
    const options: Record<string, JsonValue> = {};
    if (!this.isOp(')')) {
      do {
        const key = this.optionKey();
        if (this.isOp('.') && key.raw === key.name) {
          let dotted = key.name;
          for (let a = 0; this.isOp('.', a) && ['ident', 'keyword', 'int'].includes(this.peek(a + 1).kind); a += 2) dotted += `.${this.peek(a + 1).raw}`;
          throw new SqlError('parse', `an option name with dots is written in double quotes: "${dotted}"`, key.pos);
        }
        if (!this.isOp('=')) this.fail(`"=" after the option name ${key.raw} (options are written key = value)`);
        this.next();
        if (this.isOp(',') || this.isOp(')')) this.fail(`a value for ${key.raw} (a literal: 'text', a number, TRUE, FALSE, NULL, DATE/TIME/TIMESTAMP '…', {…})`);
        const valueAt = this.peek().pos;
        const value = connectorValue(this.expr(), valueAt);
        // upstream keeps the first of repeated keys
        if (!Object.prototype.hasOwnProperty.call(options, key.name)) setOwn(options, key.name, value);
      } while (this.acceptOp(','));
    }
    if (!this.isOp(')')) this.fail('"," or ")" after a connector option');
    this.next();
    return options;
  }

  /** an option name: an identifier (case kept), or any double-quoted text (needed for dotted keys) */
  private optionKey(): Name {
    const t = this.peek();
    if (t.kind === 'ident' || t.kind === 'qident') {
      if (t.text === '') throw new SqlError('parse', 'a connector option name cannot be empty', t.pos);
      this.next();
      return { name: t.text, raw: t.raw, pos: t.pos };
    }
    if (t.kind === 'keyword') this.fail(`an option name (${t.text} is a reserved word; write it in double quotes: "${t.raw}")`, t);
    return this.fail('an option name (an identifier, or "double.quoted" for a name with dots)', t);
  }

  private signedInteger(): { value: number; pos: SourcePos } {
    const pos = this.peek().pos;
    const sign = this.acceptOp('-') ? -1 : (this.acceptOp('+'), 1);
    const t = this.next();
    if (t.kind !== 'int') this.fail('an integer', t);
    return { value: sign * Number(t.text), pos };
  }

  private insert(): Statement {
    this.expectKw('INSERT');
    this.expectKw('INTO');
    const stream = this.hident().name;
    if (this.isKw('SELECT')) {
      const select = this.select();
      this.emitChanges();
      return { kind: 'insertSelect', stream, select, text: this.text };
    }
    if (this.isOp('(')) {
      this.next();
      const columns: Name[] = [];
      do columns.push(this.columnIdent());
      while (this.acceptOp(','));
      this.expectOp(')');
      const valuesAt = this.expectKw('VALUES');
      this.expectOp('(');
      const values: Expr[] = [];
      do values.push(this.expr());
      while (this.acceptOp(','));
      this.expectOp(')');
      if (values.length !== columns.length) throw new SqlError('bind', 'Number of fields should match expressions', valuesAt.pos);
      const row: Row = {};
      columns.forEach((c, i) => {
        const value = encodeValue(constantValue(values[i]!));
        if (c.name === '__proto__') Object.defineProperty(row, c.name, { value, enumerable: true, writable: true, configurable: true });
        else row[c.name] = value;
      });
      return { kind: 'insertValues', stream, row };
    }
    this.expectKw('VALUES');
    const e = this.expr();
    if (e.k !== 'cast' || e.e.k !== 'string' || e.type.arrayDepth !== 0 || (e.type.base !== 'JSONB' && e.type.base !== 'BYTEA')) {
      throw new SqlError('bind', 'Insert RawRecord or HRecord syntax only supports string literals to be casted to `BYTEA` or `JSONB`', e.k === 'cast' ? e.e.pos : e.pos);
    }
    if (e.type.base === 'BYTEA') return { kind: 'insertRaw', stream, payload: { bytes: Buffer.from(e.e.value, 'utf8') } };
    let json: unknown;
    try {
      json = JSON.parse(e.e.value);
    } catch {
      throw new SqlError('bind', 'Invalid JSON', e.e.pos);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SqlError('bind', 'Invalid JSON', e.e.pos);
    return { kind: 'insertRaw', stream, payload: { json: json as Row } };
  }

  // --- names ---------------------------------------------------------------------------------

  /** a stream / view / query name (HIdent): an identifier, or a double-quoted name following the same rule */
  hident(): Name {
    const t = this.peek();
    if (t.kind === 'ident') {
      this.next();
      return { name: t.text, raw: t.raw, pos: t.pos };
    }
    if (t.kind === 'qident') {
      this.next();
      if (!HIDENT.test(t.text)) throw new SqlError('parse', `Invalid identifier ${t.raw}, please refer to the document`, t.pos);
      return { name: t.text, raw: t.raw, pos: t.pos };
    }
    if (t.kind === 'keyword') this.fail(`a name (${t.text} is a reserved word; write it in double quotes: "${t.raw}")`, t);
    return this.fail('a name');
  }

  /** a column name (ColumnIdent): an identifier or any double-quoted text */
  private columnIdent(): Name {
    const t = this.peek();
    if (t.kind === 'ident' || t.kind === 'qident') {
      this.next();
      return { name: t.text, raw: t.raw, pos: t.pos };
    }
    if (t.kind === 'keyword') this.fail(`a column name (${t.text} is a reserved word; write it in double quotes: "${t.raw}")`, t);
    return this.fail('a column name');
  }

  // --- SELECT --------------------------------------------------------------------------------

  select(): SelectStatement {
    const start = this.expectKw('SELECT');
    const items: SelectItem[] = [];
    do items.push(this.selectItem());
    while (this.acceptOp(','));
    this.expectKw('FROM');
    const from = this.tableRef();
    const where = this.acceptKw('WHERE') ? this.expr() : undefined;
    let groupBy: ColumnRef[] | undefined;
    if (this.acceptKw('GROUP')) {
      this.expectKw('BY');
      groupBy = [];
      do groupBy.push(this.columnRef());
      while (this.acceptOp(','));
    }
    const having = this.acceptKw('HAVING') ? this.expr() : undefined;
    const sources: string[] = [];
    const collect = (t: TableRef): void => {
      if (t.k === 'stream') {
        if (!sources.includes(t.name.name)) sources.push(t.name.name);
      } else {
        collect(t.left);
        collect(t.right);
      }
    };
    collect(from);
    return { sources, items, from, where, groupBy, having, pos: start.pos };
  }

  private selectItem(): SelectItem {
    const t = this.peek();
    if (this.acceptOp('*')) return { k: 'star', pos: t.pos };
    if ((t.kind === 'ident' || t.kind === 'qident') && this.isOp('.', 1) && this.isOp('*', 2)) {
      const stream = this.hident();
      this.next();
      this.next();
      return { k: 'streamStar', stream, pos: t.pos };
    }
    const expr = this.expr();
    const alias = this.acceptKw('AS') ? this.columnIdent() : undefined;
    return { k: 'expr', expr, alias, pos: t.pos };
  }

  private columnRef(): ColumnRef {
    const t = this.peek();
    if ((t.kind === 'ident' || t.kind === 'qident') && this.isOp('.', 1)) {
      const stream = this.hident();
      this.next();
      return { stream, column: this.columnIdent(), pos: t.pos };
    }
    return { column: this.columnIdent(), pos: t.pos };
  }

  private tableRef(): TableRef {
    let left: TableRef = this.tableRef1();
    for (;;) {
      const t = this.peek();
      let type: JoinType;
      let natural = false;
      if (this.acceptKw('CROSS')) {
        type = 'CROSS';
      } else {
        natural = this.acceptKw('NATURAL');
        if (this.acceptKw('INNER')) type = 'INNER';
        else if (this.acceptKw('LEFT')) type = 'LEFT';
        else if (this.acceptKw('RIGHT')) type = 'RIGHT';
        else if (this.acceptKw('FULL')) type = 'FULL';
        else if (this.isKw('JOIN')) type = 'INNER';
        else if (natural) this.fail('JOIN');
        else return left;
        if (type !== 'INNER') this.acceptKw('OUTER');
      }
      this.expectKw('JOIN');
      const right = this.tableRef1();
      let cond: JoinCondition;
      if (type === 'CROSS') cond = { k: 'cross' };
      else if (natural) cond = { k: 'natural' };
      else if (this.acceptKw('ON')) cond = { k: 'on', expr: this.expr() };
      else if (this.acceptKw('USING')) {
        this.expectOp('(');
        const columns: Name[] = [];
        do columns.push(this.columnIdent());
        while (this.acceptOp(','));
        this.expectOp(')');
        cond = { k: 'using', columns };
      } else {
        this.fail('ON, USING (a join needs a condition; use CROSS JOIN or NATURAL JOIN for none)');
      }
      if (!this.isKw('WITHIN')) this.fail('WITHIN (INTERVAL n UNIT) (every stream join is windowed)');
      this.next();
      this.expectOp('(');
      const within = this.interval();
      this.expectOp(')');
      left = { k: 'join', type, left, right, cond, within, pos: t.pos };
    }
  }

  private tableRef1(): TableRef & { k: 'stream' } {
    const ref = this.tableRef2();
    if (this.acceptKw('AS')) ref.alias = this.hident();
    return ref;
  }

  private tableRef2(): TableRef & { k: 'stream' } {
    const t = this.peek();
    if (t.kind === 'keyword' && (t.text === 'TUMBLE' || t.text === 'HOP' || t.text === 'SESSION')) {
      this.next();
      this.expectOp('(');
      const ref = this.tableRef3();
      this.expectOp(',');
      const first = this.interval();
      let window: WindowSpec;
      if (t.text === 'HOP') {
        this.expectOp(',');
        window = { k: 'HOP', size: first, advance: this.interval(), pos: t.pos };
      } else if (t.text === 'TUMBLE') {
        window = { k: 'TUMBLE', size: first, pos: t.pos };
      } else {
        window = { k: 'SESSION', gap: first, pos: t.pos };
      }
      this.expectOp(')');
      return { ...ref, window, pos: t.pos };
    }
    return this.tableRef3();
  }

  private tableRef3(): TableRef & { k: 'stream' } {
    const t = this.peek();
    if (this.isOp('(')) {
      if (this.isKw('SELECT', 1)) throw new SqlError('bind', 'Subquery is not supported yet', t.pos);
      this.fail('a stream name');
    }
    const name = this.hident();
    return { k: 'stream', name, pos: t.pos };
  }

  interval(): Interval {
    const start = this.expectKw('INTERVAL');
    const n = this.next();
    if (n.kind !== 'int') this.fail(`an unsigned integer after INTERVAL (written INTERVAL 5 SECOND)${quoteHint(start)}`, n);
    const u = this.next();
    if (!(u.kind === 'keyword' && u.text in UNIT_MS)) this.fail('SECOND, MINUTE, HOUR, DAY, MONTH or YEAR', u);
    const unit = u.text as IntervalUnit;
    const count = Number(n.text);
    return { count, unit, ms: count * UNIT_MS[unit], pos: start.pos };
  }

  // --- expressions ---------------------------------------------------------------------------

  expr(): Expr {
    // Every parenthesis, call argument and array item comes back here: bounding the
    // nesting here bounds the parser's own recursion.
    const start = this.peek();
    if (++this.nesting > MAX_EXPRESSION_NESTING) {
      throw new SqlError('parse', `expression nested too deeply: more than ${MAX_EXPRESSION_NESTING} levels of parentheses, calls or arrays`, start.pos);
    }
    try {
      return this.logicalChain('or', () => this.andExpr());
    } finally {
      this.nesting--;
    }
  }

  private andExpr(): Expr {
    return this.logicalChain('and', () => this.notExpr());
  }

  /**
   * `t1 AND t2 AND …` (or OR). Generated WHERE clauses can hold thousands of terms; a
   * left-deep tree that long would overflow the stack of every later tree walk, so long
   * chains are grouped as a balanced tree (depth log2 n). AND and OR are associative in
   * three-valued logic and are evaluated left to right with short-circuit either way, so
   * results are the same; short chains keep upstream's left-deep shape (and its names).
   */
  private logicalChain(kw: 'and' | 'or', term: () => Expr): Expr {
    const terms = [term()];
    const ops: SourcePos[] = [];
    while (this.isKw(kw.toUpperCase())) {
      ops.push(this.next().pos);
      terms.push(term());
    }
    if (terms.length <= LEFT_DEEP_CHAIN_MAX) {
      let l = terms[0]!;
      for (let i = 1; i < terms.length; i++) l = { k: kw, l, r: terms[i]!, pos: ops[i - 1]! };
      return l;
    }
    const build = (lo: number, hi: number): Expr => {
      if (hi - lo === 1) return terms[lo]!;
      const mid = (lo + hi) >>> 1;
      return { k: kw, l: build(lo, mid), r: build(mid, hi), pos: ops[mid - 1]! };
    };
    return build(0, terms.length);
  }

  private notExpr(): Expr {
    if (this.isKw('NOT')) {
      const t = this.next();
      return { k: 'not', e: this.cmpExpr(), pos: t.pos };
    }
    return this.cmpExpr();
  }

  private cmpExpr(): Expr {
    let l = this.betweenExpr();
    while (this.peek().kind === 'op' && COMPARE_OPS.has(this.peek().text)) {
      const t = this.next();
      l = { k: 'cmp', op: t.text as CompareOp, l, r: this.betweenExpr(), pos: t.pos };
    }
    return l;
  }

  private betweenExpr(): Expr {
    const e = this.addExpr();
    const negated = this.isKw('NOT') && this.isKw('BETWEEN', 1);
    if (!negated && !this.isKw('BETWEEN')) return e;
    const t = this.peek();
    if (negated) this.next();
    this.next();
    const symmetric = this.acceptKw('SYMMETRIC');
    const lo = this.addExpr();
    this.expectKw('AND');
    const hi = this.addExpr();
    return { k: 'between', e, lo, hi, negated, symmetric, pos: t.pos };
  }

  private addExpr(): Expr {
    let l = this.mulExpr();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      l = { k: 'arith', op: t.text as '+' | '-', l, r: this.mulExpr(), pos: t.pos };
    }
    return l;
  }

  private mulExpr(): Expr {
    let l = this.postfixExpr(true);
    while (this.isOp('*')) {
      const t = this.next();
      l = { k: 'arith', op: '*', l, r: this.postfixExpr(true), pos: t.pos };
    }
    return l;
  }

  /** an atom followed by casts (`::T`), array accesses (`[i]`, `[i:j]`…) and, if allowed, JSON operators */
  private postfixExpr(allowJson: boolean): Expr {
    let e = this.atom();
    for (;;) {
      const t = this.peek();
      if (this.isOp('::')) {
        this.next();
        e = { k: 'cast', e, type: this.dataType(), syntax: '::', pos: t.pos };
      } else if (this.isOp('[')) {
        e = this.arrayAccess(e);
      } else if (allowJson && t.kind === 'op' && JSON_OPS.has(t.text)) {
        this.next();
        e = { k: 'json', op: t.text as JsonOp, l: e, r: this.postfixExpr(false), pos: t.pos };
      } else {
        return e;
      }
    }
  }

  private arrayAccess(e: Expr): Expr {
    const t = this.expectOp('[');
    const uint = (): number => {
      const n = this.next();
      if (n.kind !== 'int') this.fail('an unsigned integer index', n);
      return Number(n.text);
    };
    let from: number | undefined;
    let to: number | undefined;
    let slice = false;
    if (this.acceptOp(':')) {
      slice = true;
      to = uint();
    } else {
      from = uint();
      if (this.acceptOp(':')) {
        slice = true;
        if (!this.isOp(']')) to = uint();
      }
    }
    this.expectOp(']');
    return { k: 'index', e, from, to, slice, pos: t.pos };
  }

  private dataType(): SqlType {
    const t = this.next();
    if (!(t.kind === 'keyword' && TYPE_NAMES.has(t.text))) this.fail('a type (INTEGER, FLOAT, BOOLEAN, BYTEA, STRING, DATE, TIME, TIMESTAMP, INTERVAL, JSONB)', t);
    let arrayDepth = 0;
    while (this.isOp('[') && this.isOp(']', 1)) {
      this.next();
      this.next();
      arrayDepth++;
    }
    return { base: t.text as ScalarTypeName, arrayDepth };
  }

  private atom(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'int':
      case 'float':
        this.next();
        return this.number(t, '');
      case 'string':
        this.next();
        return { k: 'string', value: t.text, raw: t.raw, pos: t.pos };
      case 'ident':
      case 'qident': {
        if (this.isOp('(', 1) && t.kind === 'ident') {
          throw new SqlError('parse', `unknown function ${t.raw}`, t.pos);
        }
        this.next();
        const first: Name = { name: t.text, raw: t.raw, pos: t.pos };
        if (this.isOp('.')) {
          this.next();
          if (t.kind === 'qident' && !HIDENT.test(t.text)) throw new SqlError('parse', `Invalid identifier ${t.raw}, please refer to the document`, t.pos);
          return { k: 'col', stream: first, column: this.columnIdent(), pos: t.pos };
        }
        return { k: 'col', column: first, pos: t.pos };
      }
      case 'op':
        return this.opAtom(t);
      case 'keyword':
        return this.keywordAtom(t);
      default:
        return this.fail('an expression');
    }
  }

  private number(t: Token, sign: '' | '-' | '+'): Expr {
    const magnitude = Number(t.text);
    const value = sign === '-' ? -magnitude : magnitude;
    return t.kind === 'int' ? { k: 'int', value, raw: sign + t.text, pos: t.pos } : { k: 'float', value, raw: sign + t.text, pos: t.pos };
  }

  private opAtom(t: Token): Expr {
    if (t.text === '(') {
      if (this.isKw('SELECT', 1)) throw new SqlError('bind', 'Subquery is not supported yet', t.pos);
      this.next();
      const e = this.expr();
      this.expectOp(')');
      return e;
    }
    if (t.text === '{') {
      this.next();
      const items: Expr[] = [];
      if (!this.isOp('}')) {
        do items.push(this.expr());
        while (this.acceptOp(','));
      }
      this.expectOp('}');
      return { k: 'array', items, pos: t.pos };
    }
    if (t.text === '-' || t.text === '+') {
      const n = this.peek(1);
      if (n.kind === 'int' || n.kind === 'float') {
        this.next();
        this.next();
        const e = this.number(n, t.text);
        e.pos = t.pos;
        return e;
      }
      throw new SqlError('parse', `syntax error: a sign is only allowed before a number (there is no unary ${t.text} on expressions)`, t.pos);
    }
    return this.fail('an expression');
  }

  private keywordAtom(t: Token): Expr {
    switch (t.text) {
      case 'NULL':
        this.next();
        return { k: 'null', pos: t.pos };
      case 'TRUE':
      case 'FALSE':
        this.next();
        return { k: 'bool', value: t.text === 'TRUE', pos: t.pos };
      case 'DATE':
      case 'TIME':
      case 'TIMESTAMP': {
        this.next();
        const s = this.next();
        if (s.kind !== 'string') this.fail(`a quoted literal after ${t.text} (written ${t.text} '…')${quoteHint(t)}`, s);
        const bad = () => new SqlError('parse', `Failed to parse \`${s.raw}\` ISO 8601 format ${t.text}`, s.pos);
        if (t.text === 'DATE') {
          const d = parseDate(s.text);
          if (!d) throw bad();
          return { k: 'date', text: s.text, raw: s.raw, days: d.days, pos: t.pos };
        }
        if (t.text === 'TIME') {
          const d = parseTime(s.text);
          if (!d) throw bad();
          return { k: 'time', text: s.text, raw: s.raw, ms: d.ms, pos: t.pos };
        }
        const d = parseTimestamp(s.text);
        if (!d) throw bad();
        return { k: 'timestamp', text: s.text, raw: s.raw, ms: d.ms, offsetMinutes: d.offsetMinutes, pos: t.pos };
      }
      case 'INTERVAL':
        return { k: 'interval', interval: this.interval(), pos: t.pos };
      case 'CAST': {
        this.next();
        this.expectOp('(');
        const e = this.expr();
        this.expectKw('AS');
        const type = this.dataType();
        this.expectOp(')');
        return { k: 'cast', e, type, syntax: 'CAST', pos: t.pos };
      }
    }
    if (AGGREGATES.has(t.text)) {
      this.next();
      if (!this.isOp('(')) this.fail(`"(" after ${t.text} (${t.text} is a reserved word; write a column of that name in double quotes: "${t.raw}")`);
      this.next();
      const fn = t.text as AggregateName;
      if (fn === 'COUNT' && this.acceptOp('*')) {
        this.expectOp(')');
        return { k: 'agg', fn, pos: t.pos };
      }
      const arg = this.expr();
      let kArg: Expr | undefined;
      if (fn === 'TOPK' || fn === 'TOPKDISTINCT') {
        this.expectOp(',');
        kArg = this.expr();
      }
      this.expectOp(')');
      return { k: 'agg', fn, arg, kArg, pos: t.pos };
    }
    const fn = SCALAR_FUNCTIONS.get(t.text);
    if (fn) {
      this.next();
      if (!this.isOp('(')) this.fail(`"(" after ${t.text} (${t.text} is a reserved word; write a column of that name in double quotes: "${t.raw}")`);
      this.next();
      const args: Expr[] = [];
      if (!this.isOp(')')) {
        do args.push(this.expr());
        while (this.acceptOp(','));
      }
      this.expectOp(')');
      if (args.length < fn.minArgs || args.length > fn.maxArgs) {
        const n = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} or ${fn.maxArgs}`;
        throw new SqlError('parse', `${fn.name} takes ${n} argument${fn.maxArgs === 1 ? '' : 's'}, got ${args.length}`, t.pos);
      }
      return { k: 'call', fn: fn.name, args, pos: t.pos };
    }
    return this.fail(`an expression${quoteHint(t)}`, t);
  }
}

/** The value of a constant expression (INSERT … VALUES accepts only these). */
export function constantValue(e: Expr): Value {
  switch (e.k) {
    case 'int':
    case 'float':
    case 'string':
    case 'bool':
      return e.value;
    case 'null':
      return null;
    case 'interval':
      return intervalValue(e.interval);
    case 'date':
      return new SqlDate(e.days);
    case 'time':
      return new SqlTime(e.ms);
    case 'timestamp':
      return new SqlTimestamp(e.ms, e.offsetMinutes);
    case 'array':
      return e.items.map(constantValue);
    default:
      throw new SqlError('bind', 'INSERT only supports constant values', e.pos);
  }
}

/**
 * A connector option's value as JSON. Only literals: a double-quoted value is a column
 * reference, and so is anything else that is not written as a constant.
 * Date and time literals and intervals become their ISO 8601 text, since the config is JSON.
 */
function connectorValue(e: Expr, at: SourcePos = e.pos): JsonValue {
  switch (e.k) {
    case 'int':
    case 'float':
      // JSON has no Infinity: 1.0e999 would reach the connector as null
      if (!Number.isFinite(e.value)) throw new SqlError('bind', `the number ${e.raw} is out of range for a connector option`, at);
      return e.value;
    case 'string':
    case 'bool':
      return e.value;
    case 'null':
      return null;
    case 'date':
    case 'time':
    case 'timestamp':
    case 'interval':
      return render(constantValue(e));
    case 'array':
      return e.items.map((item) => connectorValue(item));
    default:
      // `at`: where the value begins; an operator's own position would point into its middle
      throw new SqlError('bind', CONNECTOR_NON_LITERAL, at);
  }
}

/** a keyed store that makes `__proto__` an own property instead of the prototype */
function setOwn(o: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** INTERVAL n MONTH / YEAR keep calendar months (a month is 30 days when it becomes time) */
export function intervalValue(i: Interval): SqlInterval {
  if (i.unit === 'MONTH') return new SqlInterval(i.count, 0);
  if (i.unit === 'YEAR') return new SqlInterval(12 * i.count, 0);
  return new SqlInterval(0, i.ms);
}

/**
 * Flat chains (`a + 1 + 1 …`, `x::INT::INT …`, `a[1][1] …`) are parsed in loops but still
 * build a tree as deep as the chain; every later pass (binding, naming, planning, evaluation)
 * walks it recursively. Refusing trees deeper than the limit here, without recursion, keeps
 * those passes far from the stack limit.
 */
function checkTreeDepth(root: Statement): void {
  const stack: Array<{ node: object; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    const isExpr = typeof (node as { k?: unknown }).k === 'string';
    const d = isExpr ? depth + 1 : depth;
    if (d > MAX_EXPRESSION_DEPTH) {
      const pos = (node as { pos?: SourcePos }).pos;
      throw new SqlError('parse', `expression nested too deeply: more than ${MAX_EXPRESSION_DEPTH} levels of operators (split it, or use parentheses to group a long chain)`, pos);
    }
    for (const v of Object.values(node)) {
      if (Array.isArray(v)) {
        for (const x of v) if (x !== null && typeof x === 'object') stack.push({ node: x, depth: d });
      } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
        stack.push({ node: v, depth: d });
      }
    }
  }
}

export function parseStatementText(text: string): Statement {
  return new Parser(text).parseStatement();
}

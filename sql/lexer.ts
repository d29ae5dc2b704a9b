/**
 * Lexer for the HStreamDB v1 SQL dialect (reference §1): case-insensitive
 * reserved keywords, case-sensitive identifiers, '…' strings without escapes,
 * "…" quoted identifiers, `//` and `/* … *\/` comments. Positions are 1-based
 * line and column (in UTF-16 units from the start of the line).
 *
 * Owns tokenization only; must not import anything outside sql/.
 */
import { SqlError, type SourcePos } from './errors.js';

export type TokenKind = 'ident' | 'qident' | 'keyword' | 'int' | 'float' | 'string' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** keyword: upper-cased; ident/qident: the name (quotes stripped); string: the content; op: the operator; numbers: digits as written */
  text: string;
  /** exactly as written in the statement (quotes included) */
  raw: string;
  pos: SourcePos;
}

/** Every reserved word of SQL-v1.cf; none of them can be an unquoted identifier, in any letter case. */
export const KEYWORDS: ReadonlySet<string> = new Set(
  `ABS ACOS ACOSH AND ARRAY_CONTAIN ARRAY_DISTINCT ARRAY_EXCEPT ARRAY_INTERSECT ARRAY_JOIN ARRAY_LENGTH ARRAY_MAX
  ARRAY_MIN ARRAY_REMOVE ARRAY_SORT ARRAY_UNION AS ASIN ASINH ATAN ATANH AVG BETWEEN BOOLEAN BY BYTEA CAST CEIL
  CHANGES CHUNKSOF CONNECTOR CONNECTORS COS COSH COUNT CREATE CROSS DATE DATETOSTRING DAY DROP DROPEND DURATION EMIT
  EXIST EXISTS EXP EXPLAIN FALSE FLOAT FLOOR FROM FULL GROUP HAVING HOP HOUR IF IFNULL INNER INSERT INTEGER INTERVAL
  INTO IS_ARRAY IS_BOOL IS_DATE IS_FLOAT IS_INT IS_NUM IS_STR IS_TIME JOIN JSONB LEFT LEFT_TRIM LOG LOG10 LOG2 MAX MIN
  MINUTE MONTH NATURAL NOT NULL NULLIF ON OR OUTER PAUSE QUERIES QUERY REPLICATE RESUME REVERSE RIGHT RIGHT_TRIM ROUND
  SECOND SELECT SESSION SHOW SIGN SIN SINH SINK SOURCE SPLIT SQRT STREAM STREAMS STRING STRINGTODATE STRLEN SUM
  SYMMETRIC TAKE TAKEEND TAN TANH TERMINATE TIME TIMESTAMP TO TOPK TOPKDISTINCT TO_LOWER TO_STR TO_UPPER TRIM TRUE
  TUMBLE USING VALUES VIEW VIEWS WHERE WITH WITHIN YEAR`.split(/\s+/),
);

export const MAX_IDENT_LENGTH = 255;

/** Operators, longest first so that `->>` wins over `->` and `::` over `:`. */
const OPERATORS = ['->>', '#>>', '->', '#>', '::', '<=', '>=', '<>', '=', '<', '>', '+', '-', '*', '(', ')', '{', '}', '[', ']', ',', '.', ';', ':'];

/** BNFC letters: ASCII plus Latin-1 letters (À–ÿ without × and ÷). */
function isLetter(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 0xc0 && c <= 0xff && c !== 0xd7 && c !== 0xf7);
}
const isDigit = (ch: string) => ch >= '0' && ch <= '9';

/** Every token of `text`, ending with `eof`. */
export function tokenize(text: string): Token[] {
  const lexer = new Lexer(text);
  const tokens: Token[] = [];
  for (let t = lexer.next(); ; t = lexer.next()) {
    tokens.push(t);
    if (t.kind === 'eof') return tokens;
  }
}

/**
 * Tokens one at a time, as the parser asks for them: a statement the parser
 * refuses early (nesting too deep) is not tokenized to its end. 1M nested
 * parentheses took 1.3 s to tokenize, all of it with the event loop blocked.
 */
export class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {}

  private posAt(offset: number): SourcePos {
    return { line: this.line, column: offset - this.lineStart + 1, offset };
  }

  /** advances over text[i..end), keeping line/column right across newlines */
  private advanceTo(end: number): void {
    const text = this.text;
    for (; this.i < end; this.i++) {
      if (text[this.i] === '\n') {
        this.line++;
        this.lineStart = this.i + 1;
      }
    }
  }

  /** The next token; `eof` at the end (and again if asked again). */
  next(): Token {
    const text = this.text;
    while (this.i < text.length) {
      const i = this.i;
      const ch = text[i]!;
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\f' || ch === '\v') {
        this.advanceTo(this.i + 1);
        continue;
      }
      if (ch === '/' && text[i + 1] === '/') {
        const end = text.indexOf('\n', i);
        this.advanceTo(end < 0 ? text.length : end);
        continue;
      }
      if (ch === '/' && text[i + 1] === '*') {
        const start = this.posAt(i);
        const end = text.indexOf('*/', i + 2);
        if (end < 0) throw new SqlError('lex', 'unterminated /* comment', start);
        this.advanceTo(end + 2);
        continue;
      }
      const start = this.posAt(i);
      if (isLetter(ch)) {
        let j = i + 1;
        while (j < text.length && (isLetter(text[j]!) || isDigit(text[j]!) || text[j] === '_' || text[j] === "'")) j++;
        const word = text.slice(i, j);
        if (word.length > MAX_IDENT_LENGTH) {
          throw new SqlError('lex', `The length of an identifier should be equal to or less than ${MAX_IDENT_LENGTH}`, start);
        }
        const upper = word.toUpperCase();
        const token: Token = KEYWORDS.has(upper) ? { kind: 'keyword', text: upper, raw: word, pos: start } : { kind: 'ident', text: word, raw: word, pos: start };
        this.advanceTo(j);
        return token;
      }
      if (isDigit(ch)) {
        let j = i;
        while (j < text.length && isDigit(text[j]!)) j++;
        let kind: TokenKind = 'int';
        if (text[j] === '.' && isDigit(text[j + 1] ?? '')) {
          kind = 'float';
          j++;
          while (j < text.length && isDigit(text[j]!)) j++;
          if ((text[j] === 'e' || text[j] === 'E') && (isDigit(text[j + 1] ?? '') || (text[j + 1] === '-' && isDigit(text[j + 2] ?? '')))) {
            j += text[j + 1] === '-' ? 2 : 1;
            while (j < text.length && isDigit(text[j]!)) j++;
          }
        }
        const raw = text.slice(i, j);
        const token: Token = { kind, text: raw, raw, pos: start };
        this.advanceTo(j);
        return token;
      }
      if (ch === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) throw new SqlError('lex', 'unterminated string literal (strings are written in single quotes and have no escapes)', start);
        const token: Token = { kind: 'string', text: text.slice(i + 1, end), raw: text.slice(i, end + 1), pos: start };
        this.advanceTo(end + 1);
        return token;
      }
      if (ch === '"') {
        const end = text.indexOf('"', i + 1);
        if (end < 0) throw new SqlError('lex', 'unterminated double-quoted identifier', start);
        const name = text.slice(i + 1, end);
        if (name.length > MAX_IDENT_LENGTH) {
          throw new SqlError('lex', `The length of an identifier should be equal to or less than ${MAX_IDENT_LENGTH}`, start);
        }
        const token: Token = { kind: 'qident', text: name, raw: text.slice(i, end + 1), pos: start };
        this.advanceTo(end + 1);
        return token;
      }
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) {
        const token: Token = { kind: 'op', text: op, raw: op, pos: start };
        this.advanceTo(i + op.length);
        return token;
      }
      if (ch === '!' && text[i + 1] === '=') throw new SqlError('lex', 'unexpected "!=" (the not-equal operator is <>)', start);
      if (ch === '`') throw new SqlError('lex', 'unexpected "`" (quote identifiers with double quotes: "name")', start);
      if (ch === '/' || ch === '%' || ch === '|') throw new SqlError('lex', `unexpected "${ch}" (the dialect has no ${ch === '|' ? '|| operator' : `${ch} operator`})`, start);
      throw new SqlError('lex', `unexpected character ${JSON.stringify(ch)}`, start);
    }
    return { kind: 'eof', text: '', raw: '', pos: this.posAt(this.i) };
  }
}

/**
 * parseStatement: the Statement shapes the server consumes, for every
 * statement of the dialect, and the error contract (phase + line/column).
 */
import { describe, expect, it } from 'vitest';
import { explain, parseStatement, planSelect, SqlError, type Statement } from '../../sql/index.js';

function fails(sql: string): SqlError {
  try {
    parseStatement(sql);
  } catch (err) {
    if (err instanceof SqlError) return err;
    throw err;
  }
  throw new Error(`accepted: ${sql}`);
}

describe('parseStatement: statement shapes', () => {
  it('CREATE STREAM with and without options', () => {
    expect(parseStatement('CREATE STREAM demo;')).toEqual({ kind: 'createStream', name: 'demo', options: {} });
    expect(parseStatement('create stream "my-stream" with (REPLICATE = 3, DURATION = INTERVAL 2 DAY, SHARD_COUNT = 4);')).toEqual({
      kind: 'createStream',
      name: 'my-stream',
      options: { replicationFactor: 3, backlogDuration: 172_800, shardCount: 4 },
    });
    // a month is 30 days, a year 360 days (upstream's interval conversion)
    expect(parseStatement('CREATE STREAM s WITH (DURATION = INTERVAL 1 MONTH);')).toMatchObject({ options: { backlogDuration: 2_592_000 } });
  });

  it('CREATE STREAM … AS SELECT keeps the text, sources and options', () => {
    const text = 'CREATE STREAM hot AS SELECT * FROM weather WHERE t > 30 WITH (REPLICATE = 2);';
    const s = parseStatement(text);
    expect(s).toMatchObject({ kind: 'createStreamAs', name: 'hot', options: { replicationFactor: 2 }, text });
    expect(s.kind === 'createStreamAs' && s.select.sources).toEqual(['weather']);
  });

  it('CREATE VIEW, INSERT … SELECT, push and pull SELECT', () => {
    const v = parseStatement('CREATE VIEW v AS SELECT k, COUNT(*) FROM a JOIN b ON a.k = b.k WITHIN (INTERVAL 1 SECOND) GROUP BY a.k;');
    expect(v.kind).toBe('createView');
    expect(v.kind === 'createView' && v.select.sources).toEqual(['a', 'b']);
    expect(parseStatement('INSERT INTO out SELECT * FROM src;')).toMatchObject({ kind: 'insertSelect', stream: 'out' });
    expect(parseStatement('SELECT * FROM s EMIT CHANGES;')).toMatchObject({ kind: 'select', emitChanges: true });
    expect(parseStatement('SELECT * FROM v;')).toMatchObject({ kind: 'select', emitChanges: false });
  });

  it('INSERT VALUES builds a plain JSON row; JSONB and BYTEA casts give raw payloads', () => {
    expect(parseStatement("INSERT INTO demo (temperature, humidity, name, ok, nothing, x) VALUES (22, -80, 'a b', TRUE, NULL, 1.5);")).toEqual({
      kind: 'insertValues',
      stream: 'demo',
      row: { temperature: 22, humidity: -80, name: 'a b', ok: true, nothing: null, x: 1.5 },
    });
    expect(parseStatement('INSERT INTO s (d, i) VALUES (DATE \'2021-08-07\', INTERVAL 5 SECOND);')).toMatchObject({
      row: { d: { $date: '2021-08-07' }, i: { $interval: 'P0MT5S' } },
    });
    expect(parseStatement(`INSERT INTO foo VALUES CAST ('{"a": 1, "b": "abc"}' AS JSONB);`)).toEqual({
      kind: 'insertRaw',
      stream: 'foo',
      payload: { json: { a: 1, b: 'abc' } },
    });
    const raw = parseStatement("INSERT INTO bar VALUES 'some binary value' :: BYTEA;");
    expect(raw.kind === 'insertRaw' && 'bytes' in raw.payload && raw.payload.bytes.toString()).toBe('some binary value');
  });

  it('DROP (IF EXISTS after the name, as upstream, or before), SHOW, TERMINATE', () => {
    expect(parseStatement('DROP STREAM s IF EXISTS;')).toEqual({ kind: 'drop', object: 'stream', name: 's', ifExists: true });
    expect(parseStatement('DROP VIEW IF EXISTS v;')).toEqual({ kind: 'drop', object: 'view', name: 'v', ifExists: true });
    expect(parseStatement('drop query q1;')).toEqual({ kind: 'drop', object: 'query', name: 'q1', ifExists: false });
    expect(parseStatement('DROP CONNECTOR c;')).toEqual({ kind: 'drop', object: 'connector', name: 'c', ifExists: false });
    for (const o of ['streams', 'queries', 'views', 'connectors'] as const) expect(parseStatement(`SHOW ${o.toUpperCase()};`)).toEqual({ kind: 'show', object: o });
    expect(parseStatement('TERMINATE QUERY cli_generated_abc;')).toEqual({ kind: 'terminate', queryId: 'cli_generated_abc' });
  });

  it('EXPLAIN wraps the statement and explain() gives the plan text', () => {
    const e = parseStatement('EXPLAIN SELECT a FROM s WHERE a > 1 EMIT CHANGES;');
    expect(e.kind).toBe('explain');
    expect(explain(e)).toBe('Emit changes to client\n  Project a\n    Filter (a > 1)\n      Scan s');
    const c = parseStatement('EXPLAIN CREATE STREAM x AS SELECT * FROM s;') as Statement & { kind: 'explain' };
    expect(c.statement.kind).toBe('createStreamAs');
  });

  it('planSelect exposes sources, keys, columns and the plan text', () => {
    const s = parseStatement('SELECT product, MAX(length) AS max_len FROM visit GROUP BY product EMIT CHANGES;');
    if (s.kind !== 'select') throw new Error('select');
    const plan = planSelect(s.select);
    expect(plan.sources).toEqual(['visit']);
    expect(plan.keys).toEqual(['product']);
    expect(plan.columns).toEqual(['product', 'max_len']);
    expect(plan.grouped).toBe(true);
    expect(plan.text).toBe('Project product, max_len := MAX(length)\n  Aggregate keys=[product] aggs=[MAX(length)]\n    Scan visit');
  });
});

describe('parseStatement: errors carry phase, line and column', () => {
  it('lex, parse and bind errors', () => {
    expect(fails("SELECT 'x FROM s;")).toMatchObject({ phase: 'lex', line: 1, column: 8 });
    expect(fails('SELECT a\nFROM s\nWHERE ;')).toMatchObject({ phase: 'parse', line: 3, column: 7 });
    expect(fails('SELECT SUM(SUM(a)) FROM s GROUP BY b EMIT CHANGES;')).toMatchObject({ phase: 'bind', line: 1, column: 12 });
  });

  it('the message says where, in upstream\'s "line L, column C" words', () => {
    expect(fails('SELECT * FROM s WHERE;').message).toMatch(/at line 1, column 22$/);
  });

  it('statements hstreamlite does not run are refused with a reason', () => {
    expect(fails('PAUSE QUERY q;').message).toContain('not supported');
    expect(fails('RESUME QUERY q;').message).toContain('ResumeQuery RPC');
    expect(fails('CREATE STREAM s (a INTEGER);').message).toContain('schemaless');
  });

  it('keywords are reserved in any case; quoting makes them names', () => {
    expect(fails('SELECT date FROM s EMIT CHANGES;').message).toContain('double quotes');
    expect(() => parseStatement('SELECT "date", "Sum" FROM s EMIT CHANGES;')).not.toThrow();
    expect(() => parseStatement('SELECT value, user, length FROM s EMIT CHANGES;')).not.toThrow();
  });

  it('CREATE … AS SELECT … EMIT CHANGES is accepted (a common spelling from older docs)', () => {
    expect(parseStatement('CREATE STREAM t AS SELECT * FROM s EMIT CHANGES;').kind).toBe('createStreamAs');
  });
});

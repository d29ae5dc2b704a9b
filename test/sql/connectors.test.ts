/**
 * Connector statements: CREATE SOURCE/SINK CONNECTOR (options become the JSON config the
 * CreateConnector RPC takes), PAUSE/RESUME CONNECTOR, and what is refused and how.
 */
import { describe, expect, it } from 'vitest';
import { parseStatement, SqlError } from '../../sql/index.js';

function fails(sql: string): SqlError {
  try {
    parseStatement(sql);
  } catch (err) {
    if (err instanceof SqlError) return err;
    throw err;
  }
  throw new Error(`accepted: ${sql}`);
}

/** the options of a one-option sink, as the statement carries them */
function optionOf(value: string): unknown {
  const s = parseStatement(`CREATE SINK CONNECTOR k TO postgresql WITH (v = ${value});`);
  if (s.kind !== 'createConnector') throw new Error(s.kind);
  return s.options['v'];
}

describe('CREATE SOURCE/SINK CONNECTOR', () => {
  it('gives the type, name, target and options (upstream docs example)', () => {
    const s = parseStatement(
      `CREATE SOURCE CONNECTOR source01 FROM mysql WITH ("host" = 'mysql-s1', "port" = 3306, "user" = 'root', "password" = 'password', "database" = 'd1', "table" = 'person', "stream" = 'stream01');`,
    );
    expect(s).toEqual({
      kind: 'createConnector',
      connectorType: 'SOURCE',
      name: 'source01',
      target: 'mysql',
      ifNotExist: false,
      options: { host: 'mysql-s1', port: 3306, user: 'root', password: 'password', database: 'd1', table: 'person', stream: 'stream01' },
    });
    expect(parseStatement(`create sink connector sink01 to postgresql with ("stream" = 's');`)).toMatchObject({
      kind: 'createConnector',
      connectorType: 'SINK',
      name: 'sink01',
      target: 'postgresql',
    });
  });

  it('every literal kind becomes its JSON value', () => {
    expect(optionOf("'x'")).toBe('x');
    expect(optionOf("''")).toBe('');
    expect(optionOf('3306')).toBe(3306);
    expect(optionOf('-1')).toBe(-1);
    expect(optionOf('+7')).toBe(7);
    expect(optionOf('1.5')).toBe(1.5);
    expect(optionOf('-0.25')).toBe(-0.25);
    expect(optionOf('TRUE')).toBe(true);
    expect(optionOf('false')).toBe(false);
    expect(optionOf('NULL')).toBeNull();
    expect(optionOf("DATE '2021-08-07'")).toBe('2021-08-07');
    expect(optionOf("TIME '10:20:30'")).toBe('10:20:30');
    expect(optionOf("TIMESTAMP '2023-06-30T12:30:45+02:00'")).toBe('2023-06-30T12:30:45+02:00');
    expect(optionOf("TIMESTAMP '2023-06-30 12:30:45Z'")).toBe('2023-06-30T12:30:45+00:00');
    expect(optionOf('INTERVAL 5 SECOND')).toBe('P0MT5S');
    expect(optionOf("{1, 'a', {TRUE, NULL}, DATE '2021-08-07'}")).toEqual([1, 'a', [true, null], '2021-08-07']);
    expect(optionOf('{}')).toEqual([]);
  });

  it('keys keep their case; dotted keys are written in double quotes', () => {
    const s = parseStatement(`CREATE SOURCE CONNECTOR c FROM mysql WITH (Host = 'a', host = 'b', "task.reader.fromOffset" = 'LATEST');`);
    expect(s.kind === 'createConnector' && s.options).toEqual({ Host: 'a', host: 'b', 'task.reader.fromOffset': 'LATEST' });
    expect(fails("CREATE SOURCE CONNECTOR c FROM mysql WITH (task.reader.fromOffset = 'LATEST');")).toMatchObject({
      phase: 'parse',
      detail: 'an option name with dots is written in double quotes: "task.reader.fromOffset"',
      line: 1,
      column: 44,
    });
    // a reserved word as a key needs the quotes too
    expect(fails('CREATE SINK CONNECTOR c TO x WITH (date = 1);').message).toContain('DATE is a reserved word; write it in double quotes: "date"');
    expect(parseStatement('CREATE SINK CONNECTOR c TO x WITH ("date" = 1);')).toMatchObject({ options: { date: 1 } });
  });

  it('a repeated key keeps its first value (upstream), in the order first written', () => {
    const s = parseStatement("CREATE SINK CONNECTOR c TO x WITH (a = 1, b = 2, a = 'second', b = 3, c = 4);");
    expect(s.kind === 'createConnector' && s.options).toEqual({ a: 1, b: 2, c: 4 });
    expect(s.kind === 'createConnector' && JSON.stringify(s.options)).toBe('{"a":1,"b":2,"c":4}');
  });

  it('a key named __proto__ is an ordinary option, not the prototype', () => {
    const s = parseStatement('CREATE SINK CONNECTOR c TO x WITH ("__proto__" = 1, "__proto__" = 2);');
    if (s.kind !== 'createConnector') throw new Error(s.kind);
    expect(JSON.stringify(s.options)).toBe('{"__proto__":1}');
    expect(Object.getPrototypeOf(s.options)).toBe(Object.prototype);
  });

  it('IF NOT EXIST (singular) parses and is recorded; EXISTS is refused with a hint', () => {
    expect(parseStatement('CREATE SOURCE CONNECTOR c FROM mysql IF NOT EXIST WITH (a = 1);')).toMatchObject({ ifNotExist: true, options: { a: 1 } });
    expect(parseStatement('CREATE SINK CONNECTOR c TO pg if not exist WITH (a = 1);')).toMatchObject({ ifNotExist: true });
    expect(fails('CREATE SINK CONNECTOR c TO pg IF NOT EXISTS WITH (a = 1);').message).toBe(
      'syntax error: expected EXIST (connectors are written IF NOT EXIST, without the S), found keyword EXISTS at line 1, column 38',
    );
  });

  it('names and targets may be double-quoted; WITH () gives an empty config', () => {
    expect(parseStatement('CREATE SINK CONNECTOR "sink-1" TO "postgresql" WITH ();')).toMatchObject({ name: 'sink-1', target: 'postgresql', options: {} });
  });
});

describe('connector values must be literals', () => {
  it('a double-quoted value is a column reference: refused with upstream\'s message', () => {
    expect(fails('CREATE SINK CONNECTOR c TO x WITH (host = "localhost");')).toMatchObject({
      phase: 'bind',
      detail: 'Connector Property should be const literal expression',
      line: 1,
      column: 43,
    });
  });

  it('the error points at the start of the value', () => {
    expect(fails('CREATE SINK CONNECTOR c TO x WITH (v = 1 + 2);')).toMatchObject({ line: 1, column: 40 });
  });

  it('a number JSON cannot carry is refused', () => {
    expect(fails('CREATE SINK CONNECTOR c TO x WITH (v = 1.0e999);')).toMatchObject({
      phase: 'bind',
      detail: 'the number 1.0e999 is out of range for a connector option',
    });
  });

  it('so are bare names, expressions, casts and calls, also inside arrays', () => {
    for (const v of ['localhost', '1 + 2', "'1'::INTEGER", "CAST('1' AS INTEGER)", "TO_UPPER('a')", '{1, x}', 'a.b']) {
      expect(fails(`CREATE SINK CONNECTOR c TO x WITH (v = ${v});`).detail).toBe('Connector Property should be const literal expression');
    }
  });
});

describe('connector statement errors', () => {
  const message = (sql: string) => fails(sql).message;

  it('missing WITH, =, value or closing parenthesis', () => {
    expect(message('CREATE SOURCE CONNECTOR c FROM mysql;')).toBe(
      'syntax error: expected WITH (key = value, …): a connector needs its options (CREATE SOURCE CONNECTOR c FROM mysql WITH (…)), found ";" at line 1, column 37',
    );
    expect(message("CREATE SOURCE CONNECTOR c FROM mysql WITH (host 'x');")).toBe(
      'syntax error: expected "=" after the option name host (options are written key = value), found string \'x\' at line 1, column 49',
    );
    expect(message('CREATE SOURCE CONNECTOR c FROM mysql WITH (host = );')).toBe(
      "syntax error: expected a value for host (a literal: 'text', a number, TRUE, FALSE, NULL, DATE/TIME/TIMESTAMP '…', {…}), found \")\" at line 1, column 51",
    );
    expect(message("CREATE SOURCE CONNECTOR c FROM mysql WITH (host = 'x';")).toBe(
      'syntax error: expected "," or ")" after a connector option, found ";" at line 1, column 54',
    );
    expect(message('CREATE SOURCE CONNECTOR c FROM mysql WITH host = 1;')).toMatch(/^syntax error: expected "\(", found identifier host/);
    expect(message("CREATE SOURCE CONNECTOR c FROM mysql WITH (, a = 'x');")).toMatch(/^syntax error: expected an option name/);
    expect(message("CREATE SOURCE CONNECTOR c FROM mysql WITH ('a' = 'x');")).toMatch(/^syntax error: expected an option name .*found string 'a'/);
  });

  it('FROM for a source, TO for a sink; CONNECTOR needs SOURCE or SINK', () => {
    expect(message('CREATE SINK CONNECTOR c FROM mysql WITH (a = 1);')).toBe(
      'a SINK connector is written TO its target: CREATE SINK CONNECTOR c TO target WITH (…) at line 1, column 25',
    );
    expect(message('CREATE SOURCE CONNECTOR c TO mysql WITH (a = 1);')).toBe(
      'a SOURCE connector is written FROM its target: CREATE SOURCE CONNECTOR c FROM target WITH (…) at line 1, column 27',
    );
    expect(message('CREATE SOURCE CONNECTOR c WITH (a = 1);')).toMatch(/^syntax error: expected FROM and the connector's target/);
    expect(message('CREATE SOURCE c FROM mysql WITH (a = 1);')).toMatch(/^syntax error: expected CONNECTOR, found identifier c/);
    expect(message('CREATE CONNECTOR c FROM mysql WITH (a = 1);')).toMatch(/^syntax error: expected SOURCE or SINK before CONNECTOR/);
    expect(message('CREATE SOURCE CONNECTOR c FROM mysql WITH (a = 1)')).toMatch(/expected a ";" at the end of a statement/);
  });

  it('EXPLAIN has no plan for a connector', () => {
    expect(fails('EXPLAIN CREATE SINK CONNECTOR c TO x WITH (a = 1);')).toMatchObject({
      phase: 'bind',
      detail: 'EXPLAIN can not give any execution plan for CREATE CONNECTOR',
    });
  });
});

describe('PAUSE / RESUME', () => {
  it('PAUSE CONNECTOR and RESUME CONNECTOR name a connector', () => {
    expect(parseStatement('PAUSE CONNECTOR c1;')).toEqual({ kind: 'pauseConnector', name: 'c1' });
    expect(parseStatement('resume connector "c-1";')).toEqual({ kind: 'resumeConnector', name: 'c-1' });
    expect(fails('PAUSE CONNECTOR;').message).toMatch(/^syntax error: expected a name/);
  });

  it('PAUSE/RESUME QUERY stay refused', () => {
    expect(fails('PAUSE QUERY q;').message).toBe('PAUSE QUERY is not supported as a SQL statement by hstreamlite at line 1, column 1');
    expect(fails('RESUME QUERY q;').message).toContain('ResumeQuery RPC');
    expect(fails('PAUSE STREAM s;').message).toMatch(/^syntax error: expected QUERY or CONNECTOR/);
  });

  it('DROP CONNECTOR takes IF EXISTS in either place', () => {
    expect(parseStatement('DROP CONNECTOR c IF EXISTS;')).toEqual({ kind: 'drop', object: 'connector', name: 'c', ifExists: true });
    expect(parseStatement('DROP CONNECTOR IF EXISTS c;')).toEqual({ kind: 'drop', object: 'connector', name: 'c', ifExists: true });
  });
});

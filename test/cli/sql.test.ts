/** `hstream sql` driven as a user would: -e for every statement kind, a push query stopped with Ctrl-C, and the shell on a pseudo-terminal. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { CLI, cliFor, oneErrorLine } from './cli-harness.js';

let ts: TestServer;
let hstream: ReturnType<typeof cliFor>;

beforeAll(async () => {
  ts = await startTestServer({ inMemory: true });
  hstream = cliFor(ts.server.url);
});

afterAll(async () => {
  await ts.destroy();
});

const sql = (text: string, extra: string[] = []) => hstream(['sql', '-e', text, ...extra]);

async function serverObjects() {
  const { streams } = await ts.client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {});
  const { subscription } = await ts.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptions', {});
  const { queries } = await ts.client.unary<{ queries: Array<{ id: string; status: string }> }>('ListQueries', {});
  return { streams: streams.map((s) => s.streamName), subscriptions: subscription.map((s) => s.subscriptionId), queries };
}

/** A spawned CLI whose output can be awaited piece by piece. */
function start(command: string, args: string[]) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out, exited };
}

describe('hstream sql usage', () => {
  it('has its own help, is listed in the top help, and takes no positional argument', async () => {
    const help = await hstream(['sql', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hstream sql \[-e\|--execute SQL\] \[--total INT\]\n/);
    expect((await hstream(['--help'])).stdout).toMatch(/\n  sql +Start HStream SQL Shell\n/);
    const extra = await hstream(['sql', 'SHOW', 'STREAMS;']);
    expect(extra.code).toBe(2);
    expect(oneErrorLine(extra)).toBe("Error: unexpected argument 'SHOW'. See 'hstream sql --help'.");
  });
});

describe('hstream sql --execute', () => {
  it('CREATE STREAM prints the stream table; INSERT VALUES prints Done.', async () => {
    const created = await sql('CREATE STREAM readings;');
    expect(created).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '+-------------+---------+----------------+-------------+',
        '| Stream Name | Replica | Retention Time | Shard Count |',
        '+-------------+---------+----------------+-------------+',
        '| readings    | 1       | 604800 seconds | 1           |',
        '+-------------+---------+----------------+-------------+',
        '',
      ].join('\n'),
    });
    expect(await sql("INSERT INTO readings (device, temp) VALUES ('a', 21);")).toEqual({ code: 0, stderr: '', stdout: 'Done.\n' });
  });

  it('SHOW STREAMS draws the stream table', async () => {
    const r = await sql('SHOW STREAMS;');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('| readings    | 1       | 604800 seconds | 1           |');
  });

  it('CREATE STREAM … AS SELECT and CREATE VIEW print the query table; SHOW QUERIES / SHOW VIEWS list them', async () => {
    const q = await sql('CREATE STREAM hot AS SELECT * FROM readings WHERE temp > 30;');
    expect(q.code).toBe(0);
    const lines = q.stdout.split('\n');
    expect(lines[1]).toMatch(/^\| Query ID +\| Status +\| Created Time +\| SQL Text +\|$/);
    expect(lines[3]).toMatch(/^\| cli_generated_[a-z]{10} \| RUNNING \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000 \| CREATE STREAM hot AS SELECT \* FROM readings WHERE temp > 30; \|$/);

    const v = await sql('CREATE VIEW per_device AS SELECT device, COUNT(*) AS n FROM readings GROUP BY device;');
    expect(v.code).toBe(0);
    const viewQuery = /cli_generated_[a-z]{10}/.exec(v.stdout)![0];

    const shown = await sql('SHOW QUERIES;');
    expect(shown.stdout).toContain('CREATE STREAM hot AS SELECT');
    expect(shown.stdout).toContain(viewQuery);
    const views = await sql('SHOW VIEWS;');
    expect(views.stdout.split('\n')[1]).toMatch(/^\| View Name +\| Status +\| Created Time +\| Schema +\| Query Name +\|$/);
    expect(views.stdout).toMatch(new RegExp(`\\| per_device +\\| RUNNING .*\\| ${viewQuery} \\|`));
  });

  it('a pull query on a view prints one JSON line per row', async () => {
    await sql("INSERT INTO readings (device, temp) VALUES ('b', 35);");
    await sql("INSERT INTO readings (device, temp) VALUES ('b', 36);");
    await eventually(async () => (await sql("SELECT * FROM per_device WHERE device = 'b';")).stdout === '{"device":"b","n":2.0}\n' || undefined);
    const r = await sql("SELECT * FROM per_device WHERE device = 'b';");
    expect(r).toEqual({ code: 0, stderr: '', stdout: '{"device":"b","n":2.0}\n' });
  });

  it('EXPLAIN prints the plan; TERMINATE and DROP print Done.', async () => {
    const plan = await sql('EXPLAIN SELECT * FROM readings WHERE temp > 25 EMIT CHANGES;');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^-------- RAW PLAN --------\n/);
    expect(plan.stdout).toContain('Scan readings');

    const id = /\| (cli_generated_[a-z]{10}) \| RUNNING \| [^|]+\| CREATE STREAM hot/.exec((await sql('SHOW QUERIES;')).stdout)![1]!;
    expect(await sql(`TERMINATE QUERY ${id};`)).toEqual({ code: 0, stderr: '', stdout: 'Done.\n' });
    expect(await sql(`DROP QUERY ${id};`)).toEqual({ code: 0, stderr: '', stdout: 'Done.\n' });
    await sql('CREATE STREAM scratch;');
    expect(await sql('DROP STREAM scratch;')).toEqual({ code: 0, stderr: '', stdout: 'Done.\n' });
  });

  it('INSERT … SELECT runs as a query', async () => {
    await sql('CREATE STREAM copies;');
    const r = await sql('INSERT INTO copies SELECT * FROM readings;');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| cli_generated_[a-z]{10} \| RUNNING \|.*INSERT INTO copies SELECT \* FROM readings; \|/);
  });

  it('a parse error is one line with line and column, exit status 1', async () => {
    const r = await sql('SELECT * FROM readings\nWHERE temp >> 3 EMIT CHANGES;');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r)).toMatch(/^Error: Parse exception at <line 2, column \d+>: /);
  });

  it('a server error is one Error line, exit status 1', async () => {
    const r = await sql('SELECT * FROM no_such_view;');
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^Error: /);
  });

  it('--total ends a push query after that many rows and leaves nothing behind', async () => {
    const before = await serverObjects();
    const run = start(process.execPath, [CLI, '--service-url', ts.server.url, 'sql', '--total', '1', '-e', 'SELECT device FROM readings WHERE temp > 50 EMIT CHANGES;']);
    await eventually(async () => (await serverObjects()).subscriptions.some((s) => s.startsWith('cli_internal_subscription_')) || undefined);
    await sql("INSERT INTO readings (device, temp) VALUES ('t', 51);");
    expect(await run.exited).toBe(0);
    expect(run.out).toEqual({ stdout: '{"device":"t"}\n', stderr: '' });
    expect(await serverObjects()).toEqual(before);
  });
});

describe('hstream sql push query and Ctrl-C', () => {
  it('prints rows appended by another client, and on SIGINT deletes its subscription, query and stream', async () => {
    await sql('CREATE STREAM sensors;');
    const before = await serverObjects();
    const run = start(process.execPath, [CLI, '--service-url', ts.server.url, 'sql', '-e', 'SELECT device, temp * 2 AS doubled FROM sensors WHERE temp > 0 EMIT CHANGES;']);
    const during = await eventually(async () => {
      const now = await serverObjects();
      return now.subscriptions.some((s) => s.startsWith('cli_internal_subscription_')) ? now : undefined;
    });
    expect(during.streams.filter((s) => s.startsWith('cli_generated_stream_'))).toHaveLength(1);
    expect(during.queries.filter((q) => !before.queries.some((b) => b.id === q.id))).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/^cli_generated_[a-z]{10}$/) as unknown }),
    ]);

    // another client appends
    const other = cliFor(ts.server.url);
    await other(['stream', 'append', 'sensors'], { stdin: '{"device":"x","temp":20}\n{"device":"y","temp":-1}\n{"device":"z","temp":1.5}\n' });
    await eventually(() => run.out.stdout.split('\n').length >= 3 || undefined);
    expect(run.out.stdout).toBe('{"device":"x","doubled":40.0}\n{"device":"z","doubled":3.0}\n');

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.out.stderr).toBe('');
    const after = await serverObjects();
    expect(after).toEqual(before);
    expect(after.streams.some((s) => s.startsWith('cli_generated'))).toBe(false);
    expect(after.subscriptions.some((s) => s.startsWith('cli_'))).toBe(false);
  });
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasScript)('hstream sql interactive shell (pseudo-terminal via script(1))', () => {
  it('reads a multi-line statement, shows a parse error and goes on, and leaves on quit', async () => {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = [process.execPath, CLI, '--service-url', ts.server.url, 'sql'].map(quote).join(' ');
    const run = start('script', ['-qfec', cmd, '/dev/null']);
    const waitFor = (text: string | RegExp) =>
      eventually(() => (typeof text === 'string' ? run.out.stdout.includes(text) : text.test(run.out.stdout)) || undefined, 15_000);
    const type = (line: string) => run.child.stdin.write(line + '\r');

    await waitFor('> ');
    type('CREATE STREAM');
    await waitFor('| ');
    type('  typed_in_shell;');
    await waitFor('| typed_in_shell | 1       | 604800 seconds | 1           |');
    type("INSERT INTO typed_in_shell (a) VALUES ('hello');");
    await waitFor('Done.');
    type('SHOW');
    type('STREAMS');
    type(';');
    await eventually(() => (run.out.stdout.match(/\| typed_in_shell +\|/g) ?? []).length >= 2 || undefined, 15_000);
    type('SELEC oops;');
    await waitFor(/Error: Parse exception at <line 1, column 1>: [^\r\n]*/);
    type('SHOW QUERIES;');
    await waitFor(/\| Query ID +\| Status +\| Created Time +\| SQL Text +\|/);
    type('quit');
    expect(await run.exited).toBe(0);
    const ops = await serverObjects();
    expect(ops.streams).toContain('typed_in_shell');
  });

  it('Ctrl-C stops a push query in the shell, cleans up, and returns to the prompt', async () => {
    await sql('CREATE STREAM shell_push;');
    const before = await serverObjects();
    const run = start('script', ['-qfec', `${process.execPath} ${CLI} --service-url ${ts.server.url} sql`, '/dev/null']);
    await eventually(() => run.out.stdout.includes('> ') || undefined, 15_000);
    run.child.stdin.write('SELECT v FROM shell_push\rEMIT CHANGES;\r');
    await eventually(async () => (await serverObjects()).subscriptions.some((s) => s.startsWith('cli_internal_subscription_')) || undefined);
    await sql('INSERT INTO shell_push (v) VALUES (7);');
    await eventually(() => run.out.stdout.includes('{"v":7.0}') || undefined);
    run.child.stdin.write('\x03');
    await eventually(async () => JSON.stringify(await serverObjects()) === JSON.stringify(before) || undefined);
    run.child.stdin.write('SHOW STREAMS;\r');
    await eventually(() => /\| shell_push +\|/.test(run.out.stdout) || undefined, 15_000);
    run.child.stdin.write('quit\r');
    expect(await run.exited).toBe(0);
  });

  it('Ctrl-D leaves the shell', async () => {
    const run = start('script', ['-qfec', `${process.execPath} ${CLI} --service-url ${ts.server.url} sql`, '/dev/null']);
    await eventually(() => run.out.stdout.includes('> ') || undefined, 15_000);
    run.child.stdin.write('\x04');
    expect(await run.exited).toBe(0);
  });
});

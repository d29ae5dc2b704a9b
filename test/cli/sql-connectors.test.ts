/**
 * `hstream sql` for connector statements, without a server: the Name | Status table, and which
 * RPC each statement becomes with what request, through a Connection whose client answers from
 * a script (so errors go through the CLI's real error printing).
 */
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/cli/connection.js';
import { renderConnectors, SqlRunner } from '../../src/cli/sql-run.js';

describe('renderConnectors (upstream prints only Name and Status)', () => {
  it('one row group per connector', () => {
    expect(
      renderConnectors([
        { name: 'source01', status: 'RUNNING' },
        { name: 'sink-with-a-long-name', status: 'STOPPED' },
      ]),
    ).toBe(
      [
        '+-----------------------+---------+',
        '| Name                  | Status  |',
        '+-----------------------+---------+',
        '| source01              | RUNNING |',
        '+-----------------------+---------+',
        '| sink-with-a-long-name | STOPPED |',
        '+-----------------------+---------+',
        '',
      ].join('\n'),
    );
  });

  it('an empty list is the header box alone', () => {
    expect(renderConnectors([])).toBe(['+------+--------+', '| Name | Status |', '+------+--------+', ''].join('\n'));
  });
});

type Call = { rpc: string; request: Record<string, unknown> };
type Answer = (request: Record<string, unknown>) => unknown;

const opened: Connection[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

/** a runner whose RPCs are answered by `answers` (by name); every call is recorded */
function scripted(answers: Record<string, Answer>) {
  const stderr = new PassThrough();
  // never dialled: retry-timeout 0 skips the wait for a connection, and unary is replaced below
  const conn = new Connection({ host: '127.0.0.1', port: 1, address: '127.0.0.1:1', retryTimeoutSeconds: 0 }, stderr);
  opened.push(conn);
  const calls: Call[] = [];
  const client = conn.client as unknown as { unary: (rpc: string, request: Record<string, unknown>) => Promise<unknown> };
  client.unary = async (rpc, request) => {
    calls.push({ rpc, request });
    const answer = answers[rpc];
    if (!answer) throw Object.assign(new Error(`12 UNIMPLEMENTED: ${rpc}`), { code: grpc.status.UNIMPLEMENTED, details: `${rpc} is not scripted` });
    return answer(request);
  };
  let stdout = '';
  const out = new PassThrough();
  out.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const runner = new SqlRunner(conn, { stdin: new PassThrough(), stdout: out, stderr }, { total: 0 });
  return { runner, calls, stdout: () => stdout };
}

/** a failed call as the server sends one: JSON error body in the details */
function serverError(code: grpc.status, body: { error: number; message: string; extra: unknown }) {
  return () => {
    const details = JSON.stringify(body);
    throw Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details });
  };
}

const table = (...rows: Array<[string, string]>) => renderConnectors(rows.map(([name, status]) => ({ name, status })));

describe('hstream sql: connector statements', () => {
  it('CREATE SOURCE CONNECTOR sends CreateConnector with the options as compact JSON, then prints the reply', async () => {
    const t = scripted({ CreateConnector: (r) => ({ name: r['name'], type: r['type'], target: r['target'], status: 'RUNNING', config: '{}' }) });
    await t.runner.run(`CREATE SOURCE CONNECTOR source01 FROM mysql IF NOT EXIST WITH ("host" = 'mysql-s1', port = 3306, "task.reader.fromOffset" = 'LATEST', port = 1);`);
    expect(t.calls).toEqual([
      {
        rpc: 'CreateConnector',
        request: { name: 'source01', type: 'SOURCE', target: 'mysql', config: '{"host":"mysql-s1","port":3306,"task.reader.fromOffset":"LATEST"}' },
      },
    ]);
    expect(t.stdout()).toBe(
      ['+----------+---------+', '| Name     | Status  |', '+----------+---------+', '| source01 | RUNNING |', '+----------+---------+', ''].join('\n'),
    );
  });

  it('CREATE SINK CONNECTOR sends type SINK', async () => {
    const t = scripted({ CreateConnector: (r) => ({ name: r['name'], status: 'NEW' }) });
    await t.runner.run('CREATE SINK CONNECTOR s1 TO blackhole WITH ("stream" = 1);');
    expect(t.calls[0]).toEqual({ rpc: 'CreateConnector', request: { name: 's1', type: 'SINK', target: 'blackhole', config: '{"stream":1}' } });
    expect(t.stdout()).toBe(table(['s1', 'NEW']));
  });

  it('SHOW CONNECTORS lists through ListConnectors; an empty list prints the header box', async () => {
    const t = scripted({
      ListConnectors: () => ({
        connectors: [
          { name: 'a', type: 'SOURCE', status: 'RUNNING' },
          { name: 'b', type: 'SINK', status: 'STOPPED' },
        ],
      }),
    });
    await t.runner.run('SHOW CONNECTORS;');
    expect(t.calls).toEqual([{ rpc: 'ListConnectors', request: {} }]);
    expect(t.stdout()).toBe(table(['a', 'RUNNING'], ['b', 'STOPPED']));

    const empty = scripted({ ListConnectors: () => ({ connectors: [] }) });
    await empty.runner.run('show connectors;');
    expect(empty.stdout()).toBe(['+------+--------+', '| Name | Status |', '+------+--------+', ''].join('\n'));
  });

  it('PAUSE, RESUME and DROP CONNECTOR call their RPC by name and print Done.', async () => {
    const t = scripted({ PauseConnector: () => ({}), ResumeConnector: () => ({}), DeleteConnector: () => ({}) });
    await t.runner.run('PAUSE CONNECTOR c1;');
    await t.runner.run('RESUME CONNECTOR c1;');
    await t.runner.run('DROP CONNECTOR c1;');
    await t.runner.run('DROP CONNECTOR IF EXISTS "c-2";');
    expect(t.calls).toEqual([
      { rpc: 'PauseConnector', request: { name: 'c1' } },
      { rpc: 'ResumeConnector', request: { name: 'c1' } },
      { rpc: 'DeleteConnector', request: { name: 'c1' } },
      { rpc: 'DeleteConnector', request: { name: 'c-2' } },
    ]);
    expect(t.stdout()).toBe('Done.\nDone.\nDone.\nDone.\n');
  });

  it('other DROPs still go through ExecuteQuery', async () => {
    const t = scripted({ ExecuteQuery: () => ({ result_set: [] }) });
    await t.runner.run('DROP STREAM s;');
    expect(t.calls).toEqual([{ rpc: 'ExecuteQuery', request: { stmt_text: 'DROP STREAM s;' } }]);
    expect(t.stdout()).toBe('Done.\n');
  });

  it('a server error is the CLI\'s usual one line; nothing is printed to stdout', async () => {
    const t = scripted({
      CreateConnector: serverError(grpc.status.ALREADY_EXISTS, { error: 601, message: 'ConnectorExists', extra: 'c1' }),
      PauseConnector: serverError(grpc.status.NOT_FOUND, { error: 600, message: 'ConnectorNotFound', extra: { name: 'c9' } }),
    });
    await expect(t.runner.run('CREATE SINK CONNECTOR c1 TO blackhole WITH ();')).rejects.toThrow(/^ConnectorExists: c1$/);
    await expect(t.runner.run('PAUSE CONNECTOR c9;')).rejects.toThrow(/^ConnectorNotFound: \{"name":"c9"\}$/);
    expect(t.stdout()).toBe('');
  });

  it('a parse error never reaches the server', async () => {
    const t = scripted({});
    await expect(t.runner.run('CREATE SINK CONNECTOR c TO x WITH (a = "b");')).rejects.toThrow(
      'Parse exception at <line 1, column 40>: Connector Property should be const literal expression',
    );
    expect(t.calls).toEqual([]);
  });
});

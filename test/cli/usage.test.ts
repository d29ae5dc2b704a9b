/** Global flags, help, usage mistakes and connection failures of the `hstream` CLI. */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { oneErrorLine, runCli } from './cli-harness.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({ inMemory: true });
  await ts.client.unary('CreateStream', { streamName: 'here', replicationFactor: 1, shardCount: 1 });
});

afterAll(async () => {
  await ts.destroy();
});

/** A port nobody listens on: bind an ephemeral port, then release it. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connection flags', () => {
  it('--host and --port reach the server; --service-url overrides them', async () => {
    const byFlags = await runCli(['--host', '127.0.0.1', '--port', String(ts.server.port), 'stream', 'describe', 'here']);
    expect(byFlags.code).toBe(0);
    expect(byFlags.stdout).toContain('| here ');
    const byUrl = await runCli(['--port', '1', '--service-url', `hstream://127.0.0.1:${ts.server.port}`, 'stream', 'describe', 'here']);
    expect(byUrl.stdout).toBe(byFlags.stdout);
  });

  it('global flags are also accepted after the command', async () => {
    const r = await runCli(['stream', 'describe', 'here', '--port', String(ts.server.port)]);
    expect(r.code).toBe(0);
  });

  it('a service URL without a port uses --port', async () => {
    const r = await runCli(['--port', String(ts.server.port), '--service-url', 'hstream://127.0.0.1', 'stream', 'list']);
    expect(r.code).toBe(0);
  });

  it('a server that is not there: one line at once with --retry-timeout 0, after the timeout otherwise', async () => {
    const port = await closedPort();
    const now = await runCli(['--port', String(port), '--retry-timeout', '0', 'stream', 'list']);
    expect(now.code).toBe(1);
    expect(now.stdout).toBe('');
    expect(oneErrorLine(now)).toMatch(new RegExp(`^Error: cannot reach the server at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));

    const started = Date.now();
    const waited = await runCli(['--port', String(port), '--retry-timeout', '1', 'stream', 'list']);
    expect(waited.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(waited.stderr).toBe(
      `Waiting for server to start...\nError: Connection timed out after 1 s. Please check the server URI (127.0.0.1:${port}) and try again.\n`,
    );
  });

  it('bad connection flags are usage errors (status 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--service-url', 'http://127.0.0.1:6570'], /Unsupported URI scheme 'http'/],
      [['--service-url', 'hstreams://127.0.0.1:6570'], /Tls certificates are not provided/],
      [['--service-url', 'nonsense'], /invalid --service-url 'nonsense'/],
      [['--port', 'abc'], /invalid value for --port: 'abc'/],
      [['--port', '70000'], /invalid value for --port: '70000'/],
      [['--tls-key', 'k.pem'], /got `tls-key`, but `tls-cert` is missing/],
      [['--tls-cert', 'c.pem'], /got `tls-cert`, but `tls-key` is missing/],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli([...flags, 'stream', 'list']);
      expect({ flags, code: r.code }).toEqual({ flags, code: 2 });
      expect(oneErrorLine(r)).toMatch(message);
    }
  });

  it('an unreadable TLS file is reported before connecting', async () => {
    const r = await runCli(['--tls-ca', '/nonexistent/ca.pem', 'stream', 'list']);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^Error: cannot read the file given to --tls-ca: .*ENOENT/);
  });
});

describe('help and usage', () => {
  it('--help lists the command groups; each group and command has its own help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^======= HStream CLI =======\n\nUsage: hstream \[--host SERVER-HOST\] \[--port INT\]/);
    for (const g of ['node', 'stream', 'subscription', 'sub']) expect(top.stdout).toMatch(new RegExp(`\\n  ${g} +\\S`));

    const group = await runCli(['stream', '--help']);
    expect(group.stdout).toMatch(/^Usage: hstream stream COMMAND\n  Manage Streams in HStreamDB\n/);
    for (const c of ['list', 'create', 'describe', 'delete', 'append', 'list-shard', 'read-shard', 'read-stream']) {
      expect(group.stdout).toMatch(new RegExp(`\\n  ${c} +\\S`));
    }

    const commands = [
      ['stream', 'create', 'Usage: hstream stream create STREAM_NAME [-r|--replication-factor INT] [-b|--backlog-duration INT] [-s|--shards INT]'],
      ['stream', 'list', 'Usage: hstream stream list'],
      ['stream', 'describe', 'Usage: hstream stream describe STREAM_NAME'],
      ['stream', 'delete', 'Usage: hstream stream delete STREAM_NAME [-f|--force]'],
      ['stream', 'append', 'Usage: hstream stream append STREAM_NAME [-k|--key KEY] [--raw]'],
      ['stream', 'read-stream', 'Usage: hstream stream read-stream STREAM_NAME [--from [EARLIEST|LATEST|TIMESTAMP]]'],
      ['subscription', 'create', 'Usage: hstream subscription create SUB_ID [--stream STREAM_NAME] [--ack-timeout INT] [--max-unacked-records INT]'],
      ['subscription', 'list', 'Usage: hstream subscription list'],
      ['subscription', 'describe', 'Usage: hstream subscription describe SUB_ID'],
      ['subscription', 'delete', 'Usage: hstream subscription delete SUB_ID [-f|--force]'],
      ['node', 'list', 'Usage: hstream node list'],
      ['node', 'status', 'Usage: hstream node status [--id INT]'],
    ];
    for (const [group, command, usage] of commands) {
      const r = await runCli([group!, command!, '--help']);
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect(r.stdout.startsWith(usage!)).toBe(true);
      expect(r.stdout).toContain('-h,--help                Show this help text');
    }
  });

  it('--version prints the client version', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^version: \d+\.\d+\.\d+ \(hstreamlite\)\n$/) });
  });

  it('usage mistakes: one line pointing at the right --help, status 2, nothing on stdout', async () => {
    const cases: Array<[string[], string]> = [
      [[], "Error: missing COMMAND. See 'hstream --help'."],
      [['streams'], "Error: unknown command 'streams'. See 'hstream --help'."],
      [['stream'], "Error: missing COMMAND for 'hstream stream'. See 'hstream stream --help'."],
      [['stream', 'drop'], "Error: unknown command 'drop' for 'hstream stream'. See 'hstream stream --help'."],
      [['stream', 'create'], "Error: missing STREAM_NAME. See 'hstream stream create --help'."],
      [['stream', 'create', 'a', 'b'], "Error: unexpected argument 'b'. See 'hstream stream create --help'."],
      [['stream', 'create', 'a', '-r', 'x'], "Error: invalid value for --replication-factor: 'x' (expected an integer from 0 to 4294967295). See 'hstream stream create --help'."],
      [['stream', 'list', '--force'], "Error: 'hstream stream list' does not take the option --force. See 'hstream stream list --help'."],
      [['stream', 'list', '--bogus'], "Error: unknown option '--bogus'. See 'hstream --help'."],
      [['stream', 'read-stream', 's', '--from', 'yesterday'], "Error: invalid offset for --from: 'yesterday' (expected earliest, latest or a timestamp in ms). See 'hstream stream read-stream --help'."],
      [['stream', 'read-stream', 's', '--from', '1-2-3'], "Error: invalid offset for --from: '1-2-3' (expected earliest, latest or a timestamp in ms). See 'hstream stream read-stream --help'."],
      [['stream', 'append', 's', '--compression', 'lz4'], "Error: invalid value for --compression: 'lz4' (expected none, gzip or zstd). See 'hstream stream append --help'."],
    ];
    for (const [args, line] of cases) {
      const r = await runCli(['--port', String(ts.server.port), ...args]);
      expect({ args, code: r.code, stdout: r.stdout, line: oneErrorLine(r) }).toEqual({ args, code: 2, stdout: '', line });
    }
  });
});

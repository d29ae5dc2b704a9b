/** `hstream subscription …` (and its alias `sub`) and `hstream node …`, as spawned processes against a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { cliFor, oneErrorLine } from './cli-harness.js';

let ts: TestServer;
let hstream: ReturnType<typeof cliFor>;

beforeAll(async () => {
  ts = await startTestServer({ inMemory: true });
  hstream = cliFor(ts.server.url);
  await ts.client.unary('CreateStream', { streamName: 'demo', replicationFactor: 1, shardCount: 1 });
});

afterAll(async () => {
  await ts.destroy();
});

const RULE = '+-----------------+-------------+-------------+---------------------+';
const TITLES = '| Subscription ID | Stream Name | Ack Timeout | Max Unacked Records |';

interface SubscriptionMsg {
  subscriptionId: string;
  streamName: string;
  ackTimeoutSeconds: number;
  maxUnackedRecords: number;
  offset: string;
}

describe('subscription', () => {
  it('create uses upstream defaults (60 s, 10000, latest) and prints the table', async () => {
    const r = await hstream(['subscription', 'create', 'sub_demo', '--stream', 'demo']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [RULE, TITLES, RULE, '| sub_demo        | demo        | 60 seconds  | 10000               |', RULE, ''].join('\n'),
    });
    const { subscription } = await ts.client.unary<{ subscription: SubscriptionMsg }>('GetSubscription', { id: 'sub_demo' });
    expect(subscription).toMatchObject({ streamName: 'demo', ackTimeoutSeconds: 60, maxUnackedRecords: 10000, offset: 'LATEST' });
  });

  it('create honours --ack-timeout, --max-unacked-records (or --max-unacked) and --offset', async () => {
    const r = await hstream(['sub', 'create', 'sub_tuned', '--stream', 'demo', '--ack-timeout', '5', '--max-unacked', '100', '--offset', 'earliest']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[3]).toBe('| sub_tuned       | demo        | 5 seconds   | 100                 |');
    const { subscription } = await ts.client.unary<{ subscription: SubscriptionMsg }>('GetSubscription', { id: 'sub_tuned' });
    expect(subscription).toMatchObject({ ackTimeoutSeconds: 5, maxUnackedRecords: 100, offset: 'EARLIEST' });
    const upstreamName = await hstream(['sub', 'create', 'sub_long', '--stream', 'demo', '--max-unacked-records', '7']);
    expect(upstreamName.stdout.split('\n')[3]).toBe('| sub_long        | demo        | 60 seconds  | 7                   |');
  });

  it('list and describe draw the same table, one row group per subscription', async () => {
    const list = await hstream(['subscription', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([RULE, TITLES, RULE]);
    expect(lines).toContain('| sub_demo        | demo        | 60 seconds  | 10000               |');
    expect(lines).toContain('| sub_tuned       | demo        | 5 seconds   | 100                 |');
    expect(lines.filter((l) => l === RULE)).toHaveLength(2 + (lines.length - 4) / 2);

    const one = await hstream(['subscription', 'describe', 'sub_tuned']);
    expect(one.stdout).toBe([RULE, TITLES, RULE, '| sub_tuned       | demo        | 5 seconds   | 100                 |', RULE, ''].join('\n'));
  });

  it('delete prints Done. and the subscription is gone', async () => {
    expect(await hstream(['subscription', 'delete', 'sub_long'])).toEqual({ code: 0, stdout: 'Done.\n', stderr: '' });
    const gone = await hstream(['subscription', 'describe', 'sub_long']);
    expect(gone.code).toBe(1);
    expect(oneErrorLine(gone)).toBe('Error: SubscriptionNotFound: sub_long');
    expect(await hstream(['sub', 'delete', 'sub_tuned', '-f'])).toEqual({ code: 0, stdout: 'Done.\n', stderr: '' });
  });

  it('list with no subscriptions prints the header alone', async () => {
    const empty = await startTestServer({ inMemory: true });
    try {
      expect(await cliFor(empty.server.url)(['subscription', 'list'])).toEqual({ code: 0, stderr: '', stdout: [RULE, TITLES, RULE, ''].join('\n') });
    } finally {
      await empty.destroy();
    }
  });

  it('errors: one line and status 1 from the server, status 2 for usage mistakes', async () => {
    const dup = await hstream(['subscription', 'create', 'sub_demo', '--stream', 'demo']);
    expect(dup.code).toBe(1);
    expect(oneErrorLine(dup)).toMatch(/^Error: \S.*sub_demo/);

    const noStream = await hstream(['subscription', 'create', 'orphan', '--stream', 'nowhere']);
    expect(noStream.code).toBe(1);
    expect(oneErrorLine(noStream)).toMatch(/nowhere/);

    const missingFlag = await hstream(['subscription', 'create', 'orphan']);
    expect(missingFlag.code).toBe(2);
    expect(oneErrorLine(missingFlag)).toBe("Error: missing --stream STREAM_NAME. See 'hstream subscription create --help'.");

    const badOffset = await hstream(['subscription', 'create', 'orphan', '--stream', 'demo', '--offset', 'middle']);
    expect(badOffset.code).toBe(2);
    oneErrorLine(badOffset);

    const missing = await hstream(['subscription', 'delete', 'never']);
    expect(missing.code).toBe(1);
    expect(oneErrorLine(missing)).toBe('Error: SubscriptionNotFound: never');
  });
});

describe('node', () => {
  it('list shows the node id and the address clients should use', async () => {
    const r = await hstream(['node', 'list']);
    const address = `127.0.0.1:${ts.server.port}`;
    const w = address.length;
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        `+-----------+-${'-'.repeat(w)}-+`,
        `| Server Id | ${'Address'.padEnd(w)} |`,
        `+-----------+-${'-'.repeat(w)}-+`,
        `| 1         | ${address} |`,
        `+-----------+-${'-'.repeat(w)}-+`,
        '',
      ].join('\n'),
    });
  });

  it('status shows state, address, version and commit; --id selects a node', async () => {
    const r = await hstream(['node', 'status']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^\| Server Id \| State +\| Address +\| Version +\| Commit +\|$/);
    expect(lines[3]!.split('|').map((c) => c.trim())).toEqual(['', '1', 'Running', `127.0.0.1:${ts.server.port}`, '0.1.0', 'hstreamlite', '']);
    expect((await hstream(['node', 'status', '--id', '1'])).stdout).toBe(r.stdout);

    const none = await hstream(['node', 'status', '--id', '9']);
    expect(none.code).toBe(1);
    expect(oneErrorLine(none)).toBe('Error: Node(s) not found in the cluster');
  });

  it('check-running passes when every node runs and enough nodes exist', async () => {
    expect(await hstream(['node', 'check-running'])).toEqual({ code: 0, stdout: 'All nodes in the cluster are running.\n', stderr: '' });
    const tooFew = await hstream(['node', 'check-running', '-n', '2']);
    expect(tooFew.code).toBe(1);
    expect(oneErrorLine(tooFew)).toBe('Error: No enough nodes in the cluster');
  });
});

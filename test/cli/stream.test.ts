/** `hstream stream …` driven as a user would: a spawned CLI against a real server. */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPartitionKey } from '../../src/core/shards.js';
import { decodeRecords, compressionCode } from '../../src/records.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import type { Received } from '../helpers/streams.js';
import { CLI, cliFor, oneErrorLine, parseReadOutput } from './cli-harness.js';

let ts: TestServer;
let hstream: ReturnType<typeof cliFor>;

beforeAll(async () => {
  ts = await startTestServer({ inMemory: true });
  hstream = cliFor(ts.server.url);
});

afterAll(async () => {
  await ts.destroy();
});

const HEADER = [
  '+-------------+---------+----------------+-------------+',
  '| Stream Name | Replica | Retention Time | Shard Count |',
  '+-------------+---------+----------------+-------------+',
];

async function shardsOf(name: string) {
  const { shards } = await ts.client.unary<{ shards: Array<{ shardId: string; startHashRangeKey: string; endHashRangeKey: string }> }>('ListShards', {
    streamName: name,
  });
  return shards;
}

describe('stream create / list / describe / delete', () => {
  it('create prints the created stream as upstream\'s table, with upstream\'s defaults', async () => {
    const r = await hstream(['stream', 'create', 'demo']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [...HEADER, '| demo        | 1       | 604800 seconds | 1           |', HEADER[0], ''].join('\n'),
    });
  });

  it('create honours -r, -b and --shards', async () => {
    const r = await hstream(['stream', 'create', 'tuned', '-r', '3', '-b', '3600', '--shards', '4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([...HEADER, '| tuned       | 3       | 3600 seconds   | 4           |', HEADER[0], ''].join('\n'));
    expect(await shardsOf('tuned')).toHaveLength(4);
  });

  it('list draws one row group per stream; describe draws one stream', async () => {
    const list = await hstream(['stream', 'list']);
    expect(list.code).toBe(0);
    const rows = list.stdout.split('\n');
    expect(rows.slice(0, 3)).toEqual(HEADER);
    expect(rows).toContain('| demo        | 1       | 604800 seconds | 1           |');
    expect(rows).toContain('| tuned       | 3       | 3600 seconds   | 4           |');
    // every data row is followed by a rule, and the output ends with one newline
    expect(rows.filter((l) => l === HEADER[0])).toHaveLength(2 + (rows.length - 4) / 2);
    expect(rows.at(-1)).toBe('');

    const one = await hstream(['stream', 'describe', 'tuned']);
    expect(one.stdout).toBe([...HEADER, '| tuned       | 3       | 3600 seconds   | 4           |', HEADER[0], ''].join('\n'));
  });

  it('list with no streams prints the header alone', async () => {
    const empty = await startTestServer({ inMemory: true });
    try {
      const r = await cliFor(empty.server.url)(['stream', 'list']);
      expect(r).toEqual({ code: 0, stderr: '', stdout: HEADER.join('\n') + '\n' });
    } finally {
      await empty.destroy();
    }
  });

  it('list-shard prints the shards and their hash ranges', async () => {
    const r = await hstream(['stream', 'list-shard', 'tuned']);
    expect(r.code).toBe(0);
    const shards = await shardsOf('tuned');
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^\| Stream Name \| Shard ID +\| Start Key +\| End Key +\|$/);
    const data = lines.filter((l) => l.startsWith('| tuned'));
    expect(data.map((l) => l.split('|').map((c) => c.trim()).slice(1, 5))).toEqual(
      shards.map((s) => ['tuned', s.shardId, s.startHashRangeKey, s.endHashRangeKey]),
    );
  });

  it('delete prints Done. and the stream is gone', async () => {
    await hstream(['stream', 'create', 'doomed']);
    expect(await hstream(['stream', 'delete', 'doomed'])).toEqual({ code: 0, stdout: 'Done.\n', stderr: '' });
    const again = await hstream(['stream', 'describe', 'doomed']);
    expect(again.code).toBe(1);
    expect(oneErrorLine(again)).toBe('Error: StreamNotFound: doomed');
  });

  it('delete refuses a stream with subscriptions unless -f is given', async () => {
    await hstream(['stream', 'create', 'subscribed']);
    await ts.client.unary('CreateSubscription', { subscriptionId: 'holder', streamName: 'subscribed', ackTimeoutSeconds: 60, maxUnackedRecords: 100 });
    const refused = await hstream(['stream', 'delete', 'subscribed']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    oneErrorLine(refused);
    expect(await hstream(['stream', 'delete', 'subscribed', '-f'])).toEqual({ code: 0, stdout: 'Done.\n', stderr: '' });
  });

  it('server errors are one line with the JSON body\'s message and extra, exit status 1', async () => {
    const dup = await hstream(['stream', 'create', 'demo']);
    expect(dup.code).toBe(1);
    expect(dup.stdout).toBe('');
    expect(oneErrorLine(dup)).toBe('Error: StreamExists: demo');

    const missing = await hstream(['stream', 'delete', 'nope']);
    expect(missing.code).toBe(1);
    expect(oneErrorLine(missing)).toBe('Error: StreamNotFound: nope');

    const badName = await hstream(['stream', 'create', '1bad']);
    expect(badName.code).toBe(1);
    expect(oneErrorLine(badName)).toMatch(/^Error: InvalidObjectIdentifier: /);
  });
});

describe('stream append / read-stream', () => {
  it('EMQX flow: create temp_hum, append JSON records, read them back as upstream prints them', async () => {
    expect((await hstream(['stream', 'create', 'temp_hum'])).code).toBe(0);
    const appended = await hstream(['stream', 'append', 'temp_hum'], {
      stdin: '{"temp":27.5,"hum":41.8}\n{"temp":26.1,"hum":43}\n',
    });
    expect(appended).toEqual({ code: 0, stdout: 'Done. 2 records appended.\n', stderr: '' });

    const before = Date.now();
    const read = await hstream(['stream', 'read-stream', 'temp_hum', '--until', 'latest']);
    expect(read.code).toBe(0);
    expect(read.stderr).toBe('');
    const lines = parseReadOutput(read);
    const [shardId] = (await shardsOf('temp_hum')).map((s) => s.shardId);
    expect(lines.map((l) => [l.shardId, l.key, l.record])).toEqual([
      [shardId, '', '{"hum":41.8,"temp":27.5}'],
      [shardId, '', '{"hum":43.0,"temp":26.1}'],
    ]);
    // stamped by the server when it stored the batch
    expect(lines[0]!.timestamp).toBeLessThanOrEqual(before);
    expect(lines[0]!.timestamp).toBeGreaterThan(before - 60_000);
    expect(read.stdout.split('\n')[0]).toBe(
      `timestamp: "${lines[0]!.timestamp}", id: ${shardId}-${lines[0]!.batchId}-${lines[0]!.batchIndex}, key: "", record: {"hum":41.8,"temp":27.5}`,
    );
  });

  it('JSON objects are written as Struct-encoded JSON records, everything else as RAW', async () => {
    await hstream(['stream', 'create', 'mixed']);
    const input = ['{"a":1,"nested":{"l":[true,null,"x"]}}', 'plain text', '[1,2]', '', '   ', '42', '{"broken":'].join('\n') + '\n';
    expect((await hstream(['stream', 'append', 'mixed'], { stdin: input })).stdout).toBe('Done. 5 records appended.\n');

    const responses = await ts.client.collect<{ receivedRecords: Received[] }>('ReadStream', {
      readerId: 'check_mixed',
      streamName: 'mixed',
      from: { specialOffset: 'EARLIEST' },
      until: { specialOffset: 'LATEST' },
    });
    const records = responses
      .flatMap((r) => r.receivedRecords)
      .flatMap((rr) => decodeRecords(compressionCode(rr.record.compressionType), rr.record.payload));
    expect(records.map((r) => r.header.flag)).toEqual(['JSON', 'RAW', 'RAW', 'RAW', 'RAW']);
    expect(records.slice(1).map((r) => r.payload.toString())).toEqual(['plain text', '[1,2]', '42', '{"broken":']);

    const read = parseReadOutput(await hstream(['stream', 'read-stream', 'mixed', '--until', 'latest']));
    expect(read.map((l) => l.record)).toEqual(['{"a":1.0,"nested":{"l":[true,null,"x"]}}', 'plain text', '[1,2]', '42', '{"broken":']);
  });

  it('--raw keeps JSON lines as RAW text; --key sets the partition key of every record', async () => {
    await hstream(['stream', 'create', 'rawkeys', '-s', '3']);
    const r = await hstream(['stream', 'append', 'rawkeys', '--raw', '--key', 'sensor-7'], { stdin: '{"x":1}\n{"x":2}\n' });
    expect(r.code).toBe(0);
    const read = parseReadOutput(await hstream(['stream', 'read-stream', 'rawkeys', '--until', 'latest']));
    expect(read.map((l) => [l.key, l.record])).toEqual([
      ['sensor-7', '{"x":1}'],
      ['sensor-7', '{"x":2}'],
    ]);
    // the key's MD5 picks the shard, as upstream's clients route it
    const hash = hashPartitionKey('sensor-7');
    const shard = (await shardsOf('rawkeys')).find((s) => BigInt(s.startHashRangeKey) <= hash && hash <= BigInt(s.endHashRangeKey))!;
    expect(read.every((l) => l.shardId === shard.shardId)).toBe(true);
  });

  it('--separator splits key from payload at its first occurrence and routes each key to its shard', async () => {
    await hstream(['stream', 'create', 'sep', '-s', '4']);
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
    const input = keys.map((k, i) => `${k}@{"i":${i}}`).join('\n') + '\nno-key-here\nk0@a@b\n';
    expect((await hstream(['stream', 'append', 'sep', '--separator', '@'], { stdin: input })).stdout).toBe('Done. 10 records appended.\n');
    const shards = await shardsOf('sep');
    const shardFor = (key: string) => {
      const h = hashPartitionKey(key);
      return shards.find((s) => BigInt(s.startHashRangeKey) <= h && h <= BigInt(s.endHashRangeKey))!.shardId;
    };
    const read = parseReadOutput(await hstream(['stream', 'read-stream', 'sep', '--until', 'latest']));
    expect(read).toHaveLength(10);
    for (const l of read) expect(l.shardId).toBe(shardFor(l.key));
    const byKey = Object.fromEntries(read.filter((l) => l.key !== 'k0').map((l) => [l.key, l.record]));
    expect(byKey['k5']).toBe('{"i":5.0}');
    expect(byKey['']).toBe('no-key-here');
    expect(read.filter((l) => l.key === 'k0').map((l) => l.record)).toEqual(['{"i":0.0}', 'a@b']);
  });

  it('batches piped lines: 1200 lines become batches of at most 500 records, in order', async () => {
    await hstream(['stream', 'create', 'bulk']);
    const input = Array.from({ length: 1200 }, (_, i) => `line-${i}`).join('\n') + '\n';
    expect((await hstream(['stream', 'append', 'bulk'], { stdin: input })).stdout).toBe('Done. 1200 records appended.\n');
    const read = parseReadOutput(await hstream(['stream', 'read-stream', 'bulk', '--until', 'latest']));
    expect(read.map((l) => l.record)).toEqual(Array.from({ length: 1200 }, (_, i) => `line-${i}`));
    const sizes = new Map<string, number>();
    for (const l of read) sizes.set(l.batchId, (sizes.get(l.batchId) ?? 0) + 1);
    // a batch closes at 500 records (or when input pauses), never above
    expect(Math.max(...sizes.values())).toBe(500);
    expect(sizes.size).toBeGreaterThanOrEqual(3);
  });

  it('--compression gzip and zstd batches read back the same', async () => {
    await hstream(['stream', 'create', 'squeezed']);
    for (const c of ['gzip', 'zstd', 'none']) {
      expect((await hstream(['stream', 'append', 'squeezed', '--compression', c], { stdin: `{"c":"${c}"}\n` })).code).toBe(0);
    }
    const read = parseReadOutput(await hstream(['stream', 'read-stream', 'squeezed', '--until', 'latest']));
    expect(read.map((l) => l.record)).toEqual(['{"c":"gzip"}', '{"c":"zstd"}', '{"c":"none"}']);
  });

  it('reads records appended by other clients: RAW bytes as text, JSON text under the JSON flag as is', async () => {
    await hstream(['stream', 'create', 'foreign']);
    const [shardId] = (await shardsOf('foreign')).map((s) => s.shardId);
    await ts.client.unary('Append', {
      streamName: 'foreign',
      shardId,
      records: batch([{ payload: 'héllo', key: 'k"q' }, { payload: '{"json":"text"}', flag: 'JSON' }], 'Gzip'),
    });
    const r = await hstream(['stream', 'read-stream', 'foreign', '--until', 'latest']);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/, key: "k\\"q", record: héllo$/);
    expect(lines[1]).toMatch(/, key: "", record: \{"json":"text"\}$/);
  });

  it('--from/--until take earliest, latest or a timestamp; --total caps the batches', async () => {
    await hstream(['stream', 'create', 'offsets']);
    await hstream(['stream', 'append', 'offsets'], { stdin: 'first\n' });
    const afterFirst = parseReadOutput(await hstream(['stream', 'read-stream', 'offsets', '--until', 'latest']))[0]!.timestamp;
    await new Promise((r) => setTimeout(r, 5)); // the next batch must carry a later millisecond
    await hstream(['stream', 'append', 'offsets'], { stdin: 'second\nthird\n' });
    const all = parseReadOutput(await hstream(['stream', 'read-stream', 'offsets', '--until', 'latest']));
    expect(all.map((l) => l.record)).toEqual(['first', 'second', 'third']);

    const secondTs = all[1]!.timestamp;
    expect(secondTs).toBeGreaterThan(afterFirst);
    const fromTs = parseReadOutput(await hstream(['stream', 'read-stream', 'offsets', '--from', String(secondTs), '--until', 'latest']));
    expect(fromTs.map((l) => l.record)).toEqual(['second', 'third']);

    const firstBatch = parseReadOutput(await hstream(['stream', 'read-stream', 'offsets', '--total', '1']));
    expect(firstBatch.map((l) => l.record)).toEqual(['first']);

    expect((await hstream(['stream', 'read-stream', 'offsets', '--from', 'latest', '--until', 'latest'])).stdout).toBe('Read Done.\n');
  });

  it('read-stream without --until follows the stream until interrupted (Ctrl-C exits 0)', async () => {
    await hstream(['stream', 'create', 'follow']);
    const child = spawn(process.execPath, [CLI, '--service-url', ts.server.url, 'stream', 'read-stream', 'follow'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    try {
      // appended after the reader started: only a following reader can print it
      await eventually(async () => {
        if (out.includes('record: late')) return true;
        await hstream(['stream', 'append', 'follow'], { stdin: 'late\n' });
        return out.includes('record: late') || undefined;
      }, 15_000, 200);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(err).toBe('');
      expect(out.split('\n')[0]).toMatch(/^timestamp: "\d+", id: \d+-\d+-0, key: "", record: late$/);
      expect(out).not.toContain('Read Done.');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('read-shard reads one shard, from a RecordId', async () => {
    await hstream(['stream', 'create', 'oneshard']);
    await hstream(['stream', 'append', 'oneshard'], { stdin: 'a\nb\n' });
    await hstream(['stream', 'append', 'oneshard'], { stdin: 'c\n' });
    const all = parseReadOutput(await hstream(['stream', 'read-stream', 'oneshard', '--until', 'latest']));
    const third = all[2]!;
    const r = await hstream(['stream', 'read-shard', third.shardId, '--from', `${third.shardId}-${third.batchId}-0`, '--until', 'latest']);
    expect(r.code).toBe(0);
    expect(parseReadOutput(r).map((l) => l.record)).toEqual(['c']);
  });

  it('append to a missing stream fails with one line and appends nothing', async () => {
    const r = await hstream(['stream', 'append', 'ghost'], { stdin: 'x\n' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r)).toMatch(/ghost/);
  });

  it('a batch over the server\'s size limit fails with the server\'s message', async () => {
    await hstream(['stream', 'create', 'huge']);
    const r = await hstream(['stream', 'append', 'huge'], { stdin: 'x'.repeat(2 * 1024 * 1024) + '\n' });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r)).toMatch(/^Error: Record size exceeds the maximum size limit: \d+$/);
  });

  it('read-stream of a missing stream fails with one line', async () => {
    const r = await hstream(['stream', 'read-stream', 'ghost', '--until', 'latest']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r)).toBe('Error: StreamNotFound: ghost');
  });
});

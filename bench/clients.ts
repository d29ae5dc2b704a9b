/**
 * The two things the bench talks to: a real hstreamlite server process
 * (spoken to with our HStreamClient over the real HStreamApi) and the bare
 * grpc-js baseline child. Both run as separate processes on 127.0.0.1.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { HStreamClient } from '../src/client.js';
import {
  APPEND_PATH,
  appendAckCodec,
  appendRequestCodec,
  chunkCodec,
  STREAM_PATH,
  streamRequestCodec,
  type AppendAck,
  type Chunk,
} from './baseline-proto.js';
import { BASELINE_CHILD, closedLoop, loopRecords, SERVER_MAIN, withCpu, type Call, type Child, type Measure, type Scope } from './harness.js';
import type { BatchPool } from './payload.js';

/** Per-call deadline: every call is bounded even if a server hangs. */
export const CALL_DEADLINE_MS = 30_000;
const CLIENT_OPTIONS: grpc.ClientOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

// ---------------------------------------------------------------------------
// hstreamlite
// ---------------------------------------------------------------------------

export interface HStreamTarget {
  child: Child;
  client: HStreamClient;
  dataDir: string;
  /** ms from spawn() to the first successful Echo */
  startMs: number;
}

export interface HStreamStartOptions {
  dataDir: string;
  fsync?: boolean;
  /** more `npm start` flags */
  args?: string[];
}

/** Spawns `node dist/src/main.js --port 0 …` and waits for its first successful Echo. */
export async function startHStream(scope: Scope, options: HStreamStartOptions): Promise<HStreamTarget> {
  const args = ['--port', '0', '--host', '127.0.0.1', '--data-dir', options.dataDir, '--log-level', 'warn'];
  if (options.fsync) args.push('--fsync');
  if (options.args) args.push(...options.args);
  const t0 = performance.now();
  const child = await scope.spawnListening(SERVER_MAIN, args);
  const client = new HStreamClient(child.address, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  await untilOk(() => client.unary('Echo', { msg: 'bench' }, { deadlineMs: 2_000 }), 20_000, 'first Echo');
  return { child, client, dataDir: options.dataDir, startMs: performance.now() - t0 };
}

/** Stops the server (SIGTERM, as an operator would). Resolves with the shutdown time in ms. */
export async function stopHStream(scope: Scope, target: HStreamTarget): Promise<number> {
  target.client.close();
  const ms = await scope.stopChild(target.child, 30_000);
  const code = await target.child.exited;
  if (code !== 0) throw new Error(`server exited with ${String(code)} after SIGTERM: ${target.child.stderrTail()}`);
  return ms;
}

async function untilOk(attempt: () => Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`${what} did not succeed within ${timeoutMs} ms: ${(err as Error).message}`);
      await sleep(5);
    }
  }
}

/** Creates a one-shard stream and returns its shard id. */
export async function createStream(client: HStreamClient, streamName: string): Promise<string> {
  await client.unary('CreateStream', { streamName, replicationFactor: 1, backlogDuration: 0, shardCount: 1 }, { deadlineMs: CALL_DEADLINE_MS });
  const res = await client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName }, { deadlineMs: CALL_DEADLINE_MS });
  const shard = res.shards[0];
  if (!shard) throw new Error(`stream ${streamName} has no shard`);
  return shard.shardId;
}

/** One Append of the pool's next batch; checks that the reply names every record. */
export function appendCall(client: HStreamClient, streamName: string, shardId: string, pool: BatchPool): Call {
  return async () => {
    const payload = pool.payloads[pool.next()]!;
    const res = await client.unary<{ recordIds: unknown[] }>(
      'Append',
      { streamName, shardId, records: { compressionType: 'None', batchSize: pool.batchSize, payload } },
      { deadlineMs: CALL_DEADLINE_MS },
    );
    if (res.recordIds.length !== pool.batchSize) {
      throw new Error(`Append returned ${res.recordIds.length} record ids for ${pool.batchSize} records`);
    }
    return pool.batchSize;
  };
}

/** Appends `records` records (in the pool's batches, `inflight` at a time); bounded by count and time. */
export async function prefill(client: HStreamClient, streamName: string, shardId: string, pool: BatchPool, records: number, timeoutMs: number): Promise<void> {
  const batches = Math.ceil(records / pool.batchSize);
  const append = appendCall(client, streamName, shardId, pool);
  const deadline = performance.now() + timeoutMs;
  let issued = 0;
  const worker = async () => {
    while (issued < batches) {
      if (performance.now() > deadline) throw new Error(`prefill of ${records} records took longer than ${timeoutMs} ms`);
      issued++;
      await append();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

export interface ReceivedRecordMessage {
  recordIds: unknown[];
  record: { batchSize: number } | null;
}

/** Reads the whole shard with ReadShardStream (EARLIEST..LATEST); resolves with the record count. */
export async function scanShard(client: HStreamClient, streamName: string, shardId: string): Promise<number> {
  const call = client.serverStream<{ receivedRecords: ReceivedRecordMessage[] }>('ReadShardStream', {
    readerId: '',
    streamName,
    shardId,
    from: { specialOffset: 'EARLIEST' },
    until: { specialOffset: 'LATEST' },
    maxReadBatches: 0,
  });
  let records = 0;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      call.cancel();
      rej(new Error(`ReadShardStream did not end within ${CALL_DEADLINE_MS} ms`));
    }, CALL_DEADLINE_MS);
    call.on('data', (msg: { receivedRecords: ReceivedRecordMessage[] }) => {
      for (const r of msg.receivedRecords) records += r.record?.batchSize ?? 0;
    });
    call.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    call.on('end', () => {
      clearTimeout(timer);
      res();
    });
  });
  return records;
}

// ---------------------------------------------------------------------------
// Bare grpc-js baseline
// ---------------------------------------------------------------------------

export interface BaselineTarget {
  child: Child;
  client: grpc.Client;
  /** ms from spawn() to the first successful call */
  startMs: number;
}

/** The bare grpc-js child; with `store`, its Append writes each call to classic-level before acking (see baseline-child.ts). */
export async function startBaseline(scope: Scope, store?: { dataDir: string; sync: boolean }): Promise<BaselineTarget> {
  const t0 = performance.now();
  const child = await scope.spawnListening(BASELINE_CHILD, store ? ['grpc', store.dataDir, store.sync ? 'on' : 'off'] : ['grpc']);
  const client = new grpc.Client(child.address, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  await untilOk(() => baselineAppend(client, []), 20_000, 'first baseline call');
  return { child, client, startMs: performance.now() - t0 };
}

export async function stopBaseline(scope: Scope, target: BaselineTarget): Promise<void> {
  target.client.close();
  await scope.stopChild(target.child);
}

/** One bare unary call carrying `records`; resolves with the ack. */
export function baselineAppend(client: grpc.Client, records: Buffer[]): Promise<AppendAck> {
  return new Promise<AppendAck>((res, rej) => {
    client.makeUnaryRequest(
      APPEND_PATH,
      appendRequestCodec.serialize,
      appendAckCodec.deserialize,
      { records },
      { deadline: Date.now() + CALL_DEADLINE_MS },
      (err, ack) => (err || !ack ? rej(err ?? new Error('no reply')) : res(ack)),
    );
  });
}

/** The bare unary call carrying the pool's batch as `repeated bytes`. */
export function baselineAppendCall(client: grpc.Client, pool: BatchPool): Call {
  return async () => {
    const ack = await baselineAppend(client, pool.records[pool.next()]!);
    if (ack.count !== pool.batchSize) throw new Error(`baseline acked ${ack.count} of ${pool.batchSize} records`);
    return pool.batchSize;
  };
}

/** The bare unary call with no records: what any small unary RPC (CreateStream, …) costs in transport alone. */
export function baselineEmptyCall(client: grpc.Client): Call {
  return async () => {
    await baselineAppend(client, []);
    return 1;
  };
}

/** The bare server stream: `messages` messages of `messageBytes`; resolves with how many arrived. */
export async function baselineStream(client: grpc.Client, messages: number, messageBytes: number): Promise<number> {
  const call = client.makeServerStreamRequest(STREAM_PATH, streamRequestCodec.serialize, chunkCodec.deserialize, { messages, messageBytes }, {
    deadline: Date.now() + CALL_DEADLINE_MS,
  });
  let received = 0;
  await new Promise<void>((res, rej) => {
    call.on('data', (chunk: Chunk) => {
      if (chunk.payload.length !== messageBytes) rej(new Error(`baseline chunk of ${chunk.payload.length} bytes`));
      received++;
    });
    call.on('error', rej);
    call.on('end', res);
  });
  return received;
}

/** A closed-loop load of the bare unary baseline, for `paired()`. */
export function baselineUnaryLoad(client: grpc.Client, pid: number, pool: BatchPool, inflight: number, warmUpMs: number, repMs: number): Measure {
  const call = baselineAppendCall(client, pool);
  return {
    warmUp: async () => {
      await closedLoop(call, inflight, warmUpMs);
    },
    rep: () => withCpu(pid, loopRecords(repMs), () => closedLoop(call, inflight, repMs)),
  };
}

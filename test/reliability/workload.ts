/**
 * Producers for the scenarios: a lane is one sequential producer (next
 * append only after the previous one ended), so the order of its batches
 * within a shard is checkable. Many lanes on a few connections give
 * concurrency. Every append is entered in the ledger before it is sent and
 * settled with its outcome.
 */
import * as grpc from '@grpc/grpc-js';
import { HStreamClient } from '../../src/client.js';
import type { CompressionName } from '../../src/records.js';
import type { Checker } from './checker.js';
import type { Ledger, LedgerBatch } from './ledger.js';
import type { Rng } from './rng.js';

export interface Target {
  stream: string;
  shardId: string;
}

/** A client on its own HTTP/2 connection (grpc-js shares connections between clients with equal options otherwise). */
export function ownConnection(address: string): HStreamClient {
  return new HStreamClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

export interface BatchShape {
  count: number;
  filler: readonly [number, number];
  compression: CompressionName;
}

/** T1's mix: 1–50 records of 8 B–8 KiB (log-uniform), 5 % big batches of 200–1000 small records; mixed compression. */
export function mixedShape(rng: Rng): BatchShape {
  const compression = rng.weighted([
    [2, 'None'],
    [1, 'Gzip'],
    [1, 'Zstd'],
  ] as const);
  if (rng.chance(0.05)) return { count: rng.int(200, 1000), filler: [8, 64], compression };
  return { count: rng.int(1, 50), filler: [8, 8192], compression };
}

export interface AppendResult {
  batch: LedgerBatch;
  ok: boolean;
  code: number;
  details: string;
  latencyMs: number;
}

/** Sends one batch, settles it in the ledger, and checks the acknowledgement's shape and RecordIds. */
export async function appendBatch(
  client: HStreamClient,
  ledger: Ledger,
  checker: Checker | undefined,
  rng: Rng,
  spec: { target: Target; producer: number; shape: BatchShape; phase: number; deadlineMs: number },
): Promise<AppendResult> {
  const { batch, message } = ledger.build(rng, {
    stream: spec.target.stream,
    shardId: spec.target.shardId,
    producer: spec.producer,
    count: spec.shape.count,
    shape: { filler: spec.shape.filler },
    compression: spec.shape.compression,
    phase: spec.phase,
  });
  const started = performance.now();
  try {
    const res = await client.unary<{ shardId: string; recordIds: Array<{ shardId: string; batchId: string; batchIndex: number }> }>(
      'Append',
      { streamName: spec.target.stream, shardId: spec.target.shardId, records: message },
      { deadlineMs: spec.deadlineMs },
    );
    const latencyMs = performance.now() - started;
    const ids = res.recordIds;
    const lsn = Number(ids[0]?.batchId);
    ledger.settle(batch, { lsn });
    const wellFormed =
      ids.length === batch.count && ids.every((id, i) => id.shardId === spec.target.shardId && Number(id.batchId) === lsn && id.batchIndex === i);
    if (!wellFormed) {
      checker?.raise({ kind: 'misplaced', shardId: batch.shardId, lsn, batchId: batch.id, detail: `malformed acknowledgement: ${JSON.stringify(ids.slice(0, 3))}… (${ids.length} ids for ${batch.count} records)` });
    }
    checker?.noteAck(batch);
    return { batch, ok: true, code: grpc.status.OK, details: '', latencyMs };
  } catch (err) {
    const e = err as grpc.ServiceError;
    const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
    ledger.settle(batch, { code, details: e.details ?? e.message });
    return { batch, ok: false, code, details: e.details ?? e.message, latencyMs: performance.now() - started };
  }
}

export interface LaneStats {
  ok: number;
  failed: number;
  /** status code -> count, for non-OK results */
  codes: Map<number, number>;
  latenciesMs: number[];
}

export function newLaneStats(): LaneStats {
  return { ok: 0, failed: 0, codes: new Map(), latenciesMs: [] };
}

export function mergeStats(into: LaneStats, from: LaneStats): LaneStats {
  into.ok += from.ok;
  into.failed += from.failed;
  for (const [c, n] of from.codes) into.codes.set(c, (into.codes.get(c) ?? 0) + n);
  for (const l of from.latenciesMs) into.latenciesMs.push(l);
  return into;
}

export function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? String(code);
}

/**
 * Runs one sequential producer until `stop()` says so. With `untilFailure`
 * it also stops at the first failed append (the server went away).
 */
export async function runLane(options: {
  client: HStreamClient;
  ledger: Ledger;
  checker?: Checker;
  rng: Rng;
  producer: number;
  targets: Target[];
  shape: (rng: Rng) => BatchShape;
  phase: number;
  deadlineMs: number;
  stop: () => boolean;
  untilFailure?: boolean;
  onResult?: (result: AppendResult) => void;
}): Promise<LaneStats> {
  const stats = newLaneStats();
  while (!options.stop()) {
    const result = await appendBatch(options.client, options.ledger, options.checker, options.rng, {
      target: options.rng.pick(options.targets),
      producer: options.producer,
      shape: options.shape(options.rng),
      phase: options.phase,
      deadlineMs: options.deadlineMs,
    });
    options.onResult?.(result);
    if (result.ok) {
      stats.ok++;
      stats.latenciesMs.push(result.latencyMs);
    } else {
      stats.failed++;
      stats.codes.set(result.code, (stats.codes.get(result.code) ?? 0) + 1);
      if (options.untilFailure) break;
    }
  }
  return stats;
}

/** Lists a stream's shard ids in ListShards order. */
export async function shardsOf(client: HStreamClient, stream: string): Promise<string[]> {
  const { shards } = await client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: stream }, { deadlineMs: 10_000 });
  return shards.map((s) => s.shardId);
}

/** Runs `count` calls, `inflight` at a time. */
export async function inParallel(count: number, inflight: number, call: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(count, inflight) }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

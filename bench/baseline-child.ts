/**
 * Child process for the baselines, so they run apart from the load client
 * exactly like the real server does.
 *
 *   node dist/bench/baseline-child.js grpc [<dir> <sync:on|off>]
 *     bare grpc-js server (bench.Baseline: ack-only Append, Stream) on
 *     127.0.0.1:0; prints {"event":"listening","port":N}; exits on SIGTERM
 *     or when its stdin closes (the bench died). With a directory, Append
 *     first writes the request's bytes as one classic-level value (one
 *     `batch` per call, `sync` as given) and acks after the write: the least
 *     any server storing each call in LevelDB before acking can do, so our
 *     Append can be compared with storage's own floor as well as with bare
 *     transport.
 *
 *   node dist/bench/baseline-child.js level <dir> <sync:on|off> <batchSize> <warmUpMs> <repMs> <reps>
 *     raw classic-level writes, one value per batch (the batch's serialized
 *     records), sequential; prints {"event":"result","reps":[…]} and exits.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { appendRequestCodec, baselineService, type AppendAck, type AppendRequest, type Chunk, type StreamRequest } from './baseline-proto.js';
import { HOST, type Rep } from './harness.js';

function print(message: object): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

/** The request as decoded plus the bytes it came in, which the storing baseline writes. */
type StoredRequest = AppendRequest & { bytes?: Buffer };

async function serveGrpc(args: string[]): Promise<void> {
  const [dir, syncArg] = args;
  const store = dir === undefined ? undefined : await openStore(dir, syncArg === 'on');
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_send_message_length': -1 });
  const chunks = new Map<number, Buffer>();
  const service = store
    ? { ...baselineService, Append: { ...baselineService.Append!, requestDeserialize: (bytes: Buffer): StoredRequest => ({ ...appendRequestCodec.deserialize(bytes), bytes }) } }
    : baselineService;
  server.addService(service, {
    Append: (call: grpc.ServerUnaryCall<StoredRequest, AppendAck>, callback: grpc.sendUnaryData<AppendAck>) => {
      const ack = { count: call.request.records.length };
      if (!store || !call.request.bytes) return callback(null, ack);
      store.write(call.request.bytes).then(
        () => callback(null, ack),
        (err: unknown) => callback({ code: grpc.status.INTERNAL, details: (err as Error).message }),
      );
    },
    Stream: (call: grpc.ServerWritableStream<StreamRequest, Chunk>) => {
      const { messages, messageBytes } = call.request;
      let payload = chunks.get(messageBytes);
      if (!payload) chunks.set(messageBytes, (payload = randomBytes(messageBytes)));
      let sent = 0;
      let cancelled = false;
      call.on('cancelled', () => (cancelled = true));
      const pump = () => {
        while (!cancelled && sent < messages) {
          sent++;
          // honour backpressure like the real server's send()
          if (!call.write({ payload })) {
            call.once('drain', pump);
            return;
          }
        }
        if (!cancelled) call.end();
      };
      pump();
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync(`${HOST}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  print({ event: 'listening', port });
  const stop = () => {
    server.forceShutdown();
    void (store ? store.close() : Promise.resolve()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

/** One classic-level value per call under a sequence key, like our log's one value per batch. */
async function openStore(dir: string, sync: boolean): Promise<{ write(value: Buffer): Promise<void>; close(): Promise<void> }> {
  // Loaded only in this mode: the plain grpc mode must stay a bare grpc-js process (its start time and RSS are baselines).
  const { ClassicLevel } = await import('classic-level');
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let seq = 0;
  return {
    write: (value) => {
      const key = Buffer.allocUnsafe(8);
      key.writeBigUInt64BE(BigInt(++seq));
      return db.batch([{ type: 'put', key, value }], { sync });
    },
    close: () => db.close(),
  };
}

async function levelWrites(args: string[]): Promise<void> {
  const [dir, syncArg, batchArg, warmArg, repArg, repsArg] = args;
  if (!dir || !syncArg || !batchArg || !warmArg || !repArg || !repsArg) throw new TypeError('level: missing arguments');
  // Loaded here, not at the top: the grpc mode must stay a bare grpc-js process (its start time and RSS are baselines).
  const { ClassicLevel } = await import('classic-level');
  const { closedLoop, warmUp } = await import('./harness.js');
  const { batchPool } = await import('./payload.js');
  const sync = syncArg === 'on';
  const batchSize = Number(batchArg);
  const pool = batchPool(batchSize);
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let seq = 0;
  const write = async () => {
    const key = Buffer.allocUnsafe(8);
    key.writeBigUInt64BE(BigInt(++seq));
    await db.batch([{ type: 'put', key, value: pool.payloads[pool.next()]! }], { sync });
    return batchSize;
  };
  await warmUp(() => closedLoop(write, 1, 250), Number(warmArg));
  const reps: Rep[] = [];
  for (let i = 0; i < Number(repsArg); i++) {
    // this process's CPU, LevelDB's background threads (log writes, compaction) included
    const cpu0 = process.cpuUsage();
    const rep = await closedLoop(write, 1, Number(repArg));
    const cpu = process.cpuUsage(cpu0);
    const kRecords = (rep.value * Number(repArg)) / 1e6;
    reps.push({ ...rep, extra: { cpuMsPer1kRec: Math.round(((cpu.user + cpu.system) / 1000 / kRecords) * 100) / 100 } });
  }
  await db.close();
  print({ event: 'result', reps, writes: seq, elapsedMs: performance.now() });
}

const [mode, ...rest] = process.argv.slice(2);
const run = mode === 'grpc' ? serveGrpc(rest) : mode === 'level' ? levelWrites(rest) : Promise.reject(new TypeError(`unknown mode ${String(mode)}`));
run.catch((err: unknown) => {
  process.stderr.write(`baseline-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

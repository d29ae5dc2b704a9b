/**
 * T5 (test/reliability/README.md): hostile input against every RPC of the
 * loaded service definition, as raw bytes through a grpc-js client with
 * identity serializers, so nothing on our side can tidy a request up.
 *
 * Essential checks (P8), after every batch of cases:
 *   - the server process is alive (a crash shows its exit status and stderr);
 *   - every call ended within its deadline (unary calls must answer; streams
 *     may legitimately stay open and are cut by the deadline);
 *   - no INTERNAL or UNKNOWN status for bad input;
 *   - the canary still works: Echo, and an append read back byte-exact.
 * Where the outcome is certain (a 10 MB message, an invalid name, batchSize
 * 0, …) the status is checked too; elsewhere we do not guess.
 *
 * Replay: RELIABILITY_SEED=<seed> RELIABILITY_HOSTILE_ONLY=<case,case> reruns single cases.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HStreamClient } from '../../src/client.js';
import { hstreamApiDefinition } from '../../src/proto.js';
import { Compression, decodeRecords } from '../../src/records.js';
import { batch } from '../helpers/records.js';
import { tempDir } from '../helpers/server.js';
import { buildCase, gzipBombBytes, methodInfo, targetedCaseCount, type Fixtures, type HostileCase, type MethodInfo } from './hostile-cases.js';
import { LONG, PROFILE, SEED, TIMEOUT_MS } from './profile.js';
import { mib, writeFigures, type Finding } from './report.js';
import { launch, type ServerProcess } from './server-process.js';
import { ownConnection, shardsOf, statusName } from './workload.js';

const BATCH = 50;
const CONCURRENCY = 10;
const UNARY_DEADLINE_MS = 3_000;
const STREAM_DEADLINE_MS = 1_500;
/** deadline when a call that got no answer is replayed alone, and for the canary */
const CONFIRM_DEADLINE_MS = 10_000;
/** unary RPCs that may legitimately wait (ReadShard waits up to the reader's own timeout) */
const MAY_WAIT = new Set(['ReadShard']);
/**
 * Known bugs in code this suite's owner may not change, reported to its owners: a unary call
 * of these RPCs with a huge id gets no answer (the error quotes the id unbounded; the 100 KB+
 * status wedges the client's connection). They are listed as findings but fail the run only
 * with RELIABILITY_STRICT=1. Remove an entry once fixed: the suite then guards it.
 */
// Once: GetSubscription, ListConsumers, DeleteSubscription, Get/Delete/Terminate/Resume/PauseQuery and
// Get/DeleteView quoted an unbounded id and hung their connection; HStreamError.details now bounds it.
const KNOWN_NO_ANSWER = new Map<string, string>();
/** grpc-js answers INTERNAL with exactly this text when the request does not decode */
const GRPC_JS_DECODE_FAILURE = 'Error deserializing request';
const STRICT = process.env.RELIABILITY_STRICT === '1';
/** RELIABILITY_HOSTILE_LOG=<file> writes one line per case */
const VERBOSE = process.env.RELIABILITY_HOSTILE_LOG;

const dataDir = tempDir('hstreamlite-rel-hostile-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface CaseResult {
  c: HostileCase;
  code: number;
  details: string;
  responses: number;
  ms: number;
}

const identity = (b: Buffer) => b;

/** Sends one case on the raw client; always resolves with the final status. */
function send(client: grpc.Client, c: HostileCase, unaryDeadlineMs = UNARY_DEADLINE_MS): Promise<CaseResult> {
  const started = performance.now();
  const m = c.method;
  const deadline = Date.now() + (m.responseStream ? STREAM_DEADLINE_MS : unaryDeadlineMs);
  return new Promise<CaseResult>((resolve) => {
    let responses = 0;
    const finish = (code: number, details: string) => resolve({ c, code, details, responses, ms: performance.now() - started });
    const meta = new grpc.Metadata();
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, identity, identity, c.messages[0]!, meta, { deadline }, (err) => {
        if (!err) responses++;
        finish(err ? err.code : grpc.status.OK, err?.details ?? '');
      });
      return;
    }
    const onStream = (call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>) => {
      call.on('data', () => {
        // a tail-following read could go on for ever: enough is enough
        if (++responses >= 2000) call.cancel();
      });
      call.on('error', () => undefined);
      call.on('status', (s: grpc.StatusObject) => finish(s.code, s.details));
    };
    if (m.requestStream && m.responseStream) {
      const call = client.makeBidiStreamRequest(m.path, identity, identity, meta, { deadline });
      onStream(call);
      for (const msg of c.messages) call.write(msg);
      if (c.end) call.end();
    } else if (m.responseStream) {
      onStream(client.makeServerStreamRequest(m.path, identity, identity, c.messages[0]!, meta, { deadline }));
    } else {
      const call = client.makeClientStreamRequest(m.path, identity, identity, meta, { deadline }, (err) => {
        if (!err) responses++;
        finish(err ? err.code : grpc.status.OK, err?.details ?? '');
      });
      for (const msg of c.messages) call.write(msg);
      call.end();
    }
  });
}

function hex(c: HostileCase): string {
  const first = c.messages[0]!;
  return `${first.length} bytes: ${first.subarray(0, 96).toString('hex')}${first.length > 96 ? '…' : ''}`;
}

function caseLine(r: CaseResult): string {
  return `case ${r.c.index} ${r.c.method.name} [${r.c.kind}] ${r.c.note} -> ${statusName(r.code)} "${r.details.slice(0, 160)}" (${Math.round(r.ms)} ms; ${hex(r.c)})`;
}

/** Echo, then an append read back byte-exact: the server still does its job. */
async function canary(client: HStreamClient, shardId: string, n: number): Promise<void> {
  const msg = `canary-${n}-${randomBytes(6).toString('hex')}`;
  const echo = await client.unary<{ msg: string }>('Echo', { msg }, { deadlineMs: CONFIRM_DEADLINE_MS });
  if (echo.msg !== msg) throw new Error(`Echo answered ${JSON.stringify(echo.msg)} to ${JSON.stringify(msg)}`);
  const payload = randomBytes(64);
  const res = await client.unary<{ recordIds: Array<{ batchId: string }> }>(
    'Append',
    { streamName: 'canary', shardId, records: batch([{ payload }]) },
    { deadlineMs: CONFIRM_DEADLINE_MS },
  );
  const lsn = res.recordIds[0]!.batchId;
  const at = { recordOffset: { shardId, batchId: lsn, batchIndex: 0 } };
  const call = client.serverStream<{ receivedRecords: Array<{ record: { compressionType: string; payload: Buffer } }> }>('ReadShardStream', {
    readerId: 'canary',
    shardId,
    from: at,
    until: at,
  });
  const timer = setTimeout(() => call.cancel(), CONFIRM_DEADLINE_MS);
  const read: Array<{ receivedRecords: Array<{ record: { compressionType: string; payload: Buffer } }> }> = [];
  try {
    for await (const m of call) read.push(m);
  } finally {
    clearTimeout(timer);
  }
  const got = read.flatMap((m) => m.receivedRecords);
  const records = got.length === 1 ? decodeRecords(Compression[got[0]!.record.compressionType as 'None'], Buffer.from(got[0]!.record.payload)) : [];
  if (records.length !== 1 || !records[0]!.payload.equals(payload)) throw new Error(`canary append at ${lsn} did not read back (${got.length} batches)`);
}

describe('T5: hostile input against every RPC', () => {
  it(`survives ${PROFILE.hostileCases} hostile requests: never dies, never INTERNAL/UNKNOWN, canary keeps working`, { timeout: TIMEOUT_MS }, async () => {
    const only = process.env.RELIABILITY_HOSTILE_ONLY?.split(',').map(Number);
    console.log(`hostile: seed ${SEED} (replay with RELIABILITY_SEED=${SEED}${LONG ? ' RELIABILITY_LONG=1' : ''} [RELIABILITY_HOSTILE_ONLY=<case>]), ${only ? `cases ${only.join(',')}` : `${PROFILE.hostileCases} cases`}`);
    gzipBombBytes(); // built once, before the clock matters
    const server: ServerProcess = await launch({ args: ['--data-dir', dataDir], logLevel: 'error' });
    onTestFinished(() => void server.kill9());
    const admin = ownConnection(server.address);
    // A fresh connection per batch: one case that wedges its connection must not be blamed on the next batch.
    const rawClient = () =>
      new grpc.Client(server.address, grpc.credentials.createInsecure(), {
        'grpc.max_send_message_length': -1,
        'grpc.max_receive_message_length': -1,
        'grpc.use_local_subchannel_pool': 1,
      });

    // Fixtures: real objects for well-formed requests to hit.
    await admin.unary('CreateStream', { streamName: 'canary', replicationFactor: 1, shardCount: 1 });
    const [canaryShard] = await shardsOf(admin, 'canary');
    await admin.unary('CreateStream', { streamName: 'fz', replicationFactor: 1, shardCount: 2 });
    await admin.unary('CreateStream', { streamName: 'fz_one', replicationFactor: 1, shardCount: 1 });
    const fixtures: Fixtures = { streams: ['fz', 'fz_one'], shardIds: [...(await shardsOf(admin, 'fz')), ...(await shardsOf(admin, 'fz_one'))], readers: ['fzr'] };
    for (const shardId of fixtures.shardIds) {
      const stream = fixtures.shardIds.indexOf(shardId) < 2 ? 'fz' : 'fz_one';
      for (let i = 0; i < 3; i++) {
        await admin.unary('Append', { streamName: stream, shardId, records: batch([{ payload: `seed-${i}`, key: 'k' }, { payload: '😀', key: '' }]) });
      }
    }
    await admin.unary('CreateShardReader', { streamName: 'fz', shardId: fixtures.shardIds[0], readerId: 'fzr', shardOffset: { specialOffset: 'EARLIEST' }, timeout: 100 });
    await admin.unary('CreateSubscription', { subscriptionId: 'fzsub', streamName: 'fz', ackTimeoutSeconds: 2, maxUnackedRecords: 100 }).catch(() => undefined);
    await canary(admin, canaryShard!, -1);
    const rssBefore = server.rssKiB();
    const methods: MethodInfo[] = Object.entries(hstreamApiDefinition()).map(([name, def]) => methodInfo(name, def));
    const targeted = targetedCaseCount(methods);
    const indices = only ?? [...Array.from({ length: targeted }, (_, i) => -1 - i), ...Array.from({ length: Math.max(0, PROFILE.hostileCases - targeted) }, (_, i) => i)];
    const byMethod = new Map<string, Map<string, number>>();
    const byKind = new Map<string, number>();
    const internalDecode: CaseResult[] = [];
    const internalOther: CaseResult[] = [];
    const hung: CaseResult[] = [];
    const unmet: CaseResult[] = [];
    /** unary calls that hung in their batch but answered when replayed alone */
    const collateral: CaseResult[] = [];
    const knownHung: CaseResult[] = [];
    const knownCollateral: CaseResult[] = [];
    let sent = 0;
    let maxMs = 0;
    let rssPeak = rssBefore ?? 0;
    let canaryMaxMs = 0;
    /** unary calls that missed the first deadline in their batch but answered alone (no culprit in the batch) */
    let slow = 0;

    for (let start = 0; start < indices.length; start += BATCH) {
      const cases = indices.slice(start, start + BATCH).map((i) => buildCase(SEED, i, methods, fixtures));
      const results: CaseResult[] = [];
      let next = 0;
      const raw = rawClient();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < cases.length) results.push(await send(raw, cases[next++]!));
        }),
      );
      raw.close();
      sent += cases.length;
      // A unary call without an answer may be collateral damage of another case on the same
      // connection: replay it alone on its own connection to see whose fault it is.
      const hungHere: CaseResult[] = [];
      const collateralHere: CaseResult[] = [];
      // Same for a certain outcome that was missed (a wedged connection refuses new streams).
      const unmetHere: CaseResult[] = [];
      const missed = (r: CaseResult) =>
        (r.c.expect === 'resource-exhausted' && r.code !== grpc.status.RESOURCE_EXHAUSTED) ||
        (r.c.expect === 'invalid-argument' && r.code !== grpc.status.INVALID_ARGUMENT) ||
        (r.c.expect === 'non-ok' && r.code === grpc.status.OK);
      await Promise.all(
        [...results.entries()].map(async ([i, r]) => {
          if (missed(r) && r.code !== grpc.status.DEADLINE_EXCEEDED) {
            const alone = rawClient();
            const again = await send(alone, r.c, CONFIRM_DEADLINE_MS);
            alone.close();
            if (missed(again)) unmet.push(again);
            else {
              unmetHere.push(r);
              results[i] = again;
            }
            return;
          }
          if (r.code !== grpc.status.DEADLINE_EXCEEDED || r.c.method.responseStream || MAY_WAIT.has(r.c.method.name)) return;
          const alone = rawClient();
          // a generous deadline (on a busy machine a slow answer is still an answer), except for known culprits
          const again = await send(alone, r.c, KNOWN_NO_ANSWER.has(r.c.method.name) ? UNARY_DEADLINE_MS : CONFIRM_DEADLINE_MS);
          alone.close();
          if (again.code !== grpc.status.DEADLINE_EXCEEDED) {
            collateralHere.push(r);
            results[i] = again;
          } else {
            hungHere.push(r);
          }
        }),
      );
      // A call that hung beside others but answers alone is collateral damage when the batch holds a
      // culprit (a case that hangs even alone), and merely slow (a busy machine) when it does not.
      const explained = hungHere.every((r) => KNOWN_NO_ANSWER.has(r.c.method.name));
      for (const r of hungHere) (KNOWN_NO_ANSWER.has(r.c.method.name) ? knownHung : hung).push(r);
      if (hungHere.length === 0) slow += collateralHere.length;
      else for (const r of [...collateralHere, ...unmetHere]) (explained ? knownCollateral : collateral).push(r);
      if (hungHere.length === 0) unmet.push(...unmetHere);
      if (VERBOSE) appendFileSync(VERBOSE, results.map(caseLine).join('\n') + '\n');
      for (const r of results) {
        maxMs = Math.max(maxMs, r.ms);
        const counts = byMethod.get(r.c.method.name) ?? new Map<string, number>();
        counts.set(statusName(r.code), (counts.get(statusName(r.code)) ?? 0) + 1);
        byMethod.set(r.c.method.name, counts);
        byKind.set(r.c.kind, (byKind.get(r.c.kind) ?? 0) + 1);
        if (r.code === grpc.status.INTERNAL && r.details === GRPC_JS_DECODE_FAILURE) internalDecode.push(r);
        else if (r.code === grpc.status.INTERNAL || r.code === grpc.status.UNKNOWN) internalOther.push(r);
      }
      rssPeak = Math.max(rssPeak, server.rssKiB() ?? 0);
      const lastBatch = () => results.map(caseLine).join('\n');
      if (!server.alive) {
        await server.exited;
        throw new Error(`the server died during cases ${cases[0]!.index}..${cases[cases.length - 1]!.index}\n${lastBatch()}\n${server.describe()}`);
      }
      try {
        const t0 = performance.now();
        await canary(admin, canaryShard!, start);
        canaryMaxMs = Math.max(canaryMaxMs, performance.now() - t0);
      } catch (err) {
        throw new Error(`canary failed after cases ${cases[0]!.index}..${cases[cases.length - 1]!.index}: ${(err as Error).message}\n${lastBatch()}\n${server.describe()}`);
      }
    }
    const rssAfter = server.rssKiB();
    admin.close();
    const exit = await server.stop();

    const findings: Finding[] = [];
    if (internalDecode.length > 0) {
      findings.push({
        id: 'hostile/internal-on-undecodable-request',
        summary: `${internalDecode.length} requests that are not valid protobuf were answered INTERNAL "${GRPC_JS_DECODE_FAILURE}" (grpc-js default) instead of INVALID_ARGUMENT`,
        evidence: internalDecode.slice(0, 5).map(caseLine).join('\n'),
        fatal: STRICT,
      });
    }
    if (internalOther.length > 0) {
      findings.push({ id: 'hostile/internal-or-unknown', summary: `${internalOther.length} requests answered INTERNAL/UNKNOWN by our handlers`, evidence: internalOther.slice(0, 10).map(caseLine).join('\n') + '\n' + server.stderr().slice(-3000), fatal: true });
    }
    if (hung.length > 0) {
      findings.push({ id: 'hostile/unary-no-answer', summary: `${hung.length} unary calls got no answer within ${UNARY_DEADLINE_MS} ms`, evidence: hung.slice(0, 10).map(caseLine).join('\n'), fatal: true });
    }
    if (knownHung.length > 0) {
      findings.push({
        id: 'hostile/unary-no-answer-known',
        summary: `${knownHung.length} unary calls of ${[...new Set(knownHung.map((r) => r.c.method.name))].join(', ')} got no answer (known: ${[...new Set(knownHung.map((r) => KNOWN_NO_ANSWER.get(r.c.method.name)))].join('; ')}); ${knownCollateral.length} other calls on the same connections hung with them`,
        evidence: knownHung.slice(0, 5).map(caseLine).join('\n'),
        fatal: STRICT,
      });
    }
    if (collateral.length > 0) {
      findings.push({
        id: 'hostile/connection-wedged',
        summary: `${collateral.length} unary calls got no answer while sharing a connection with other cases, but answered alone: some request breaks its whole HTTP/2 connection`,
        evidence: collateral.slice(0, 5).map(caseLine).join('\n'),
        fatal: true,
      });
    }
    if (unmet.length > 0) {
      findings.push({ id: 'hostile/wrong-status', summary: `${unmet.length} requests with a certain outcome got another status`, evidence: unmet.slice(0, 10).map(caseLine).join('\n'), fatal: true });
    }
    writeFigures(
      'hostile',
      {
        seed: SEED,
        casesSent: sent,
        methods: methods.length,
        crashes: 0,
        cleanExitAfterRun: exit.code === 0,
        slowestCallMs: Math.round(maxMs),
        slowestCanaryMs: Math.round(canaryMaxMs),
        internalFromDecoding: internalDecode.length,
        internalOrUnknownFromHandlers: internalOther.length,
        unaryWithoutAnswer: hung.length,
        unaryHungOnlyBesideAnotherCase: collateral.length,
        knownUnaryWithoutAnswer: knownHung.length,
        knownCollateral: knownCollateral.length,
        slowButAnsweredAlone: slow,
        wrongStatusForCertainOutcome: unmet.length,
        byKind: Object.fromEntries(byKind),
        rssBefore: mib(rssBefore),
        rssPeak: mib(rssPeak),
        rssAfter: mib(rssAfter),
        statusesByMethod: Object.fromEntries([...byMethod].map(([m, c]) => [m, Object.fromEntries(c)])),
      },
      findings,
    );
    expect(findings.filter((f) => f.fatal).map((f) => `${f.id}: ${f.summary}\n${f.evidence}`)).toEqual([]);
    expect(exit, 'SIGTERM after the run ends the server cleanly').toEqual({ code: 0, signal: null });
  });
});

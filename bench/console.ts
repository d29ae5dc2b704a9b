/**
 * The web console from a real run: `screenshot` starts a server process
 * (`dist/src/main.js --http-port …`), feeds it for a while over gRPC
 * (appends, a consumer, a view) and saves the overview as docs/console.png;
 * `measure` reports the console's budget figures: the JavaScript it serves
 * (gzipped, as served), time from navigation start until the streams table
 * is rendered (median of runs), and the server's idle RSS with the HTTP port
 * (and console) off, on, and on after a browser used the console.
 *
 *   npm run console:screenshot      npm run console:measure
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { HStreamClient } from '../src/client.js';
import { encodeRecords } from '../src/records.js';
import { encodeStruct } from '../src/struct.js';
import { launchChromium } from './chromium.js';
import { freePort } from './db-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/main.js');

interface Server {
  child: ChildProcess;
  client: HStreamClient;
  http?: string;
  dir: string;
  stop(): Promise<void>;
}

async function startServer(withHttp: boolean): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'hstreamlite-console-'));
  const port = await freePort();
  const httpPort = withHttp ? await freePort() : undefined;
  const args = [MAIN, '--port', String(port), '--data-dir', dir, '--log-level', 'warn', ...(httpPort ? ['--http-port', String(httpPort)] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const client = new HStreamClient(`127.0.0.1:${port}`);
  for (let i = 0; ; i++) {
    try {
      await client.unary('Echo', { msg: 'console' });
      break;
    } catch (err) {
      if (i > 200) throw err;
      await sleep(100);
    }
  }
  return {
    child,
    client,
    dir,
    http: httpPort ? `http://127.0.0.1:${httpPort}` : undefined,
    stop: async () => {
      client.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });

async function stream(client: HStreamClient, name: string, shards = 1): Promise<string[]> {
  await client.unary('CreateStream', { streamName: name, replicationFactor: 1, backlogDuration: 86400, shardCount: shards });
  const { shards: list } = await client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: name });
  return list.map((s) => s.shardId);
}

function appendJson(client: HStreamClient, streamName: string, shardId: string, rows: Array<Record<string, unknown>>) {
  const payload = encodeRecords(rows.map((r) => ({ header: { flag: 'JSON' as const, attributes: {}, key: String(r['room'] ?? '') }, payload: encodeStruct(r) })));
  return client.unary('Append', { streamName, shardId, records: { compressionType: 'None', batchSize: rows.length, payload } });
}

/** A consumer that acks everything it gets, so the delivery chart has data. */
function consume(client: HStreamClient, subscriptionId: string): () => void {
  const call = client.bidi<{ subscriptionId: string; consumerName: string; ackIds: unknown[] }, { receivedRecords?: { recordIds: unknown[] } }>('StreamingFetch');
  call.on('error', () => undefined);
  call.on('data', (m) => call.write({ subscriptionId, consumerName: 'dashboard', ackIds: m.receivedRecords?.recordIds ?? [] }));
  call.write({ subscriptionId, consumerName: 'dashboard', ackIds: [] });
  return () => call.cancel();
}

/** Some streams, a subscription with a consumer and a view, then appends for `seconds`. */
async function feed(client: HStreamClient, seconds: number): Promise<() => void> {
  const sensors = await stream(client, 'sensors', 2);
  const [orders] = await stream(client, 'orders');
  await stream(client, 'audit_log');
  await client.unary('CreateSubscription', { subscriptionId: 'dashboard', streamName: 'sensors', ackTimeoutSeconds: 30, maxUnackedRecords: 1000, offset: 'EARLIEST' });
  await client.unary('CreateQuery', { sql: 'CREATE VIEW readings_per_room AS SELECT room, COUNT(*) AS readings FROM sensors GROUP BY room;', queryName: 'readings_per_room_q' });
  const stopConsumer = consume(client, 'dashboard');
  const rooms = ['kitchen', 'hall', 'lab', 'office'];
  const end = Date.now() + seconds * 1000;
  for (let tick = 0; Date.now() < end; tick++) {
    // a wave, so the chart shows a shape rather than a flat line
    const n = 5 + Math.round(20 * (1 + Math.sin(tick / 8)));
    const rows = Array.from({ length: n }, (_, i) => ({ room: rooms[(tick + i) % rooms.length], temp: 18 + ((tick * 7 + i) % 90) / 10 }));
    await appendJson(client, 'sensors', sensors[tick % sensors.length]!, rows);
    if (tick % 3 === 0) await appendJson(client, 'orders', orders!, [{ order: tick, amount: 10 + (tick % 40) }]);
    await sleep(100);
  }
  return stopConsumer;
}

async function screenshot(): Promise<void> {
  const server = await startServer(true);
  let browser: Browser | undefined;
  try {
    const stopConsumer = await feed(server.client, 40);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    await page.goto(`${server.http}/#/overview`);
    await page.locator('#chart-append-records canvas').waitFor({ timeout: 20_000 });
    await sleep(1500);
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    const path = join(ROOT, 'docs/console.png');
    await page.screenshot({ path });
    stopConsumer();
    console.log(`wrote ${path}`);
  } finally {
    await browser?.close();
    await server.stop();
  }
}

/** Bytes of a served file as sent with `accept-encoding: gzip`. */
function servedGzipBytes(url: string): Promise<number> {
  return new Promise((resolveSize, reject) => {
    const req = request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolveSize(n) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function measure(): Promise<void> {
  const report: Record<string, unknown> = {};
  const server = await startServer(true);
  const browser = await launchChromium();
  try {
    await feed(server.client, 3).then((stop) => stop());
    // every script the page loads, as served
    const page = await browser.newPage();
    const scripts = new Set<string>();
    page.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.add(r.url());
    });
    await page.goto(`${server.http}/#/streams`);
    await page.locator('main table').waitFor({ timeout: 20_000 });
    await page.close();
    let js = 0;
    for (const url of scripts) js += await servedGzipBytes(url);
    report.jsGzipBytes = js;
    report.jsFiles = scripts.size;

    const tti: number[] = [];
    for (let i = 0; i < 7; i++) {
      const context = await browser.newContext();
      const p = await context.newPage();
      await p.goto(`${server.http}/#/streams`);
      await p.locator('main table').waitFor({ timeout: 20_000 });
      // ms from navigation start to the streams table being in the page
      tti.push(Math.round(await p.evaluate(() => performance.now())));
      await context.close();
    }
    report.firstViewMs = summary(tti);
  } finally {
    await browser.close();
    await server.stop();
  }

  // idle RSS: HTTP port (and console) off, on, and on after a browser used it
  const off: number[] = [];
  const on: number[] = [];
  const used: number[] = [];
  for (let run = 0; run < 3; run++) {
    for (const withHttp of [false, true]) {
      const s = await startServer(withHttp);
      try {
        await sleep(5000);
        (withHttp ? on : off).push(rssKiB(s.child.pid!));
        if (withHttp) {
          const b = await launchChromium();
          const p = await b.newPage();
          await p.goto(`${s.http}/#/overview`);
          await p.locator('#chart-append-records').waitFor({ timeout: 20_000 });
          await sleep(10_000);
          await b.close();
          await sleep(3000);
          used.push(rssKiB(s.child.pid!));
        }
      } finally {
        await s.stop();
      }
    }
  }
  report.idleRssKiB = { httpOff: summary(off), httpOn: summary(on), httpOnAfterConsoleUse: summary(used) };
  console.log(JSON.stringify(report, null, 2));
}

const what = process.argv[2];
if (what === 'screenshot') await screenshot();
else if (what === 'measure') await measure();
else {
  console.error('usage: node dist/bench/console.js screenshot|measure');
  process.exit(2);
}

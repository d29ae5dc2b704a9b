/**
 * The README's IoT walkthrough, end to end in one test, as a user runs it:
 * a real Mosquitto → the `mqtt` source → stream `temp_hum` → the continuous
 * query `CREATE STREAM hot AS SELECT * FROM temp_hum WHERE temp > 30` → the
 * `parquet` sink on `hot` → DuckDB reading exactly the hot readings,
 * partitioned by hour. Every `<!-- step -->` block between
 * `<!-- iot-walkthrough -->` markers runs as written (with `npx hstream`,
 * the broker port and `data/lake` pointed at the test's server, broker and
 * lake directory) and its output is compared with the README's.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../cli/cli-harness.js';
import { duckdbRows, sqlString } from '../helpers/duckdb.js';
import { mosquittoUnavailable, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { shell, walkthroughBlocks } from '../helpers/walkthrough.js';
import { connectorLogs } from './mqtt-fixtures.js';

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

function hasMosquittoPub(): boolean {
  try {
    execFileSync('mosquitto_pub', ['--help'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // it prints its usage and exits 1: present
    return (err as { status?: number }).status === 1;
  }
}
const unavailable = mosquittoUnavailable ?? (hasMosquittoPub() ? undefined : 'mosquitto_pub (Debian package mosquitto-clients) is not installed');
if (unavailable && process.env['VITEST']) console.warn(`[iot walkthrough] skipping: ${unavailable}`);

/** DuckDB rows as the README prints them: a header line, then one line per row, cells joined by " | ". */
function asText(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]!);
  return [columns, ...rows.map((r) => columns.map((c) => String(r[c])))].map((cells) => `${cells.join(' | ')}\n`).join('');
}

/** Query ids and creation times differ from run to run (both have a fixed width, so tables keep their shape). */
function normalize(text: string): string {
  return text.replace(/cli_generated_[a-z0-9]+/g, 'cli_generated_ID').replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000/g, 'TIME');
}

interface ConnectorMsg {
  name: string;
  status: string;
  target: string;
}

describe.skipIf(unavailable)('README IoT walkthrough', () => {
  let broker: TestMosquitto;
  let t: TestServer;
  let lake: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    lake = tempDir('hstreamlite-iot-lake-');
    t = await startTestServer({ connectorPathRoot: lake });
  }, 120_000);
  afterAll(async () => {
    await t?.destroy();
    await broker?.stop();
  });

  /** Connectors start at once but connect on their own: a device publishing before the source subscribed would be the broker's drop. */
  const settled = () =>
    eventually(async () => {
      const { connectors } = await t.client.unary<{ connectors: ConnectorMsg[] }>('ListConnectors', {});
      for (const c of connectors) {
        if (c.status !== 'RUNNING') return undefined;
        if (c.target === 'mqtt') {
          if (!(await connectorLogs(t.client, c.name)).includes('subscribed to')) return undefined;
        }
      }
      return true;
    }, 60_000);

  it('runs as written: MQTT readings reach Parquet through SQL, and DuckDB reads exactly the hot ones, by hour', { timeout: 180_000 }, async () => {
    const port = t.server.address.split(':').at(-1)!;
    const blocks = walkthroughBlocks(README, 'iot-walkthrough');
    expect(blocks.filter((b) => b.kind === 'step').length).toBeGreaterThanOrEqual(4);
    const started = new Date();
    let lastOutput = '';
    for (const [i, block] of blocks.entries()) {
      if (block.kind === 'step' && block.modifier === 'duckdb') {
        const sql = block.text.trim().replace(/'data\/lake\//g, `'${lake}/`);
        const expected = blocks[i + 1]?.kind === 'output' ? blocks[i + 1]!.text : undefined;
        // files appear when the sink rolls them (a second after their first record)
        const text = await eventually(async () => {
          const out = asText(await duckdbRows(sql).catch(() => []));
          return expected === undefined ? out || undefined : out === expected ? out : undefined;
        }, 60_000).catch(async () => asText(await duckdbRows(sql).catch(() => [])));
        lastOutput = text;
      } else if (block.kind === 'step') {
        const command = block.text
          .trim()
          .replace(/npx hstream /g, `'${process.execPath}' '${CLI}' --port ${port} `)
          .replace(/-p 1883 /g, `-p ${broker.port} `)
          .replace(/\\"port\\" = 1883/g, `\\"port\\" = ${broker.port}`);
        const run = shell(command);
        const code = await run.exited;
        expect({ command: block.text, code, stderr: run.stderr }).toEqual({ command: block.text, code: 0, stderr: '' });
        lastOutput = run.stdout;
        await settled();
      } else {
        expect(normalize(lastOutput)).toBe(normalize(block.text));
      }
    }

    // exactly the hot readings: every one above 30, none below, each once
    const hot = await duckdbRows(`SELECT device, temp, dt, hour FROM read_parquet(${sqlString(`${lake}/hot/**/*.parquet`)}, hive_partitioning = true) ORDER BY temp`);
    expect(hot.map((r) => [r['device'], r['temp']])).toEqual([
      ['d2', 31.5],
      ['d1', 35.25],
    ]);
    // partitioned Hive-style by the hour the records were written (UTC)
    const files = (readdirSync(`${lake}/hot`, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).map((f) => relative('.', f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f).toMatch(/^dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[^/]+\.parquet$/);
    const hours = new Set([started, new Date()].map((d) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 13)}`));
    for (const r of hot) expect(hours).toContain(`${String(r['dt'])} ${String(r['hour']).padStart(2, '0')}`);
  });
});

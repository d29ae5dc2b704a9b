/**
 * The web console in a real browser (Debian's chromium via playwright-core)
 * against a real server: what a person does on each page, checked on the
 * page and, for cleanup, over gRPC. Screenshots go to test-results/console/.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStruct } from '../../src/struct.js';
import { chromiumPath, launchChromium, NO_CHROMIUM } from '../helpers/browser.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

const SHOTS = 'test-results/console';
const WAIT = { timeout: 10_000 };

let t: TestServer;
let browser: Browser;
let base: string;

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/#/${hash}`);
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

const appendJson = (stream: string, shardId: string, rows: Array<Record<string, unknown>>) =>
  t.client.unary('Append', { streamName: stream, shardId, records: batch(rows.map((r) => ({ flag: 'JSON' as const, payload: encodeStruct(r) }))) });

async function names(): Promise<string[]> {
  const [{ streams }, { queries }, { subscription }] = await Promise.all([
    t.client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {}),
    t.client.unary<{ queries: Array<{ id: string }> }>('ListQueries', {}),
    t.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptions', {}),
  ]);
  return [...streams.map((s) => s.streamName), ...queries.map((q) => q.id), ...subscription.map((s) => s.subscriptionId)];
}

describe.skipIf(!chromiumPath())(`web console in chromium${chromiumPath() ? '' : ` (skipped: ${NO_CHROMIUM})`}`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestServer({ httpPort: 0 });
    base = `http://127.0.0.1:${t.server.httpPort}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.destroy();
  });

  it('creates a stream, appends a record and browses it; a <script> record is shown as text', async () => {
    const page = await open('streams');
    await page.getByLabel('Name').fill('web_events');
    await page.getByLabel('Shards').fill('2');
    await page.getByRole('button', { name: 'Create stream' }).click();
    await page.getByRole('link', { name: 'web_events' }).click(WAIT);
    await page.getByRole('heading', { name: 'Stream web_events' }).waitFor(WAIT);
    await expect.poll(() => page.locator('table:has(caption:text("Shards")) tbody tr').count(), WAIT).toBe(2);

    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    await page.getByLabel('Key', { exact: true }).fill('k1');
    await page.getByLabel('Record', { exact: true }).fill(JSON.stringify({ note: hostile, n: 1 }));
    await page.getByRole('button', { name: 'Append' }).click();
    const status = await page.getByRole('status').textContent(WAIT);
    expect(status).toMatch(/Appended as \d+-\d+-0/);

    // read the shard the record went to
    const shardId = /Appended as (\d+)-/.exec(status!)![1]!;
    await page.getByLabel('Shard', { exact: true }).selectOption(shardId);
    await page.getByRole('button', { name: 'Read' }).click();
    await page.locator('pre.json').first().waitFor(WAIT);
    const shown = await page.locator('pre.json').first().textContent();
    expect(JSON.parse(shown!)).toEqual({ note: hostile, n: 1 });
    expect(await page.locator('main td', { hasText: 'k1' }).count()).toBe(1);
    // shown as text: no element was made from it and nothing ran
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot(page, 'stream-records');
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('draws the throughput chart from appends made over gRPC', async () => {
    const [shardId] = await createStream(t.client, 'chart_src');
    const page = await open('overview');
    // appends over a few seconds, so the one-second samples see them
    await eventually(
      async () => {
        await appendJson('chart_src', shardId!, [{ i: 1 }, { i: 2 }, { i: 3 }]);
        const points = Number(await page.locator('#chart-append-records').getAttribute('data-points'));
        return points > 0 ? points : undefined;
      },
      20_000,
      200,
    );
    // uPlot drew into its canvas: some pixel is not blank
    const painted = await page.locator('#chart-append-records canvas').evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let colored = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && data[i + 2]! > data[i]! + 60) colored++;
      return colored;
    });
    expect(painted).toBeGreaterThan(0);
    expect(Number(await page.locator('[data-count="streams"]').textContent())).toBeGreaterThanOrEqual(1);
    await shot(page, 'overview');
    await page.close();
  });

  it('runs a push query, shows rows as they arrive, and stopping leaves no temporary stream, query or subscription', async () => {
    const [shardId] = await createStream(t.client, 'push_src');
    const before = await names();
    const page = await open('sql');
    await page.getByLabel(/Statement/).fill('SELECT id, temp FROM push_src WHERE temp > 20 EMIT CHANGES;');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('button', { name: 'Stop push query' }).waitFor(WAIT);
    // the query exists once its temporary objects do
    await eventually(async () => ((await names()).some((n) => n.startsWith('console_generated_query_')) ? true : undefined), 20_000, 50);
    await appendJson('push_src', shardId!, [{ id: 'a', temp: 25 }, { id: 'b', temp: 10 }, { id: 'c', temp: 30 }]);
    const rows = page.locator('#push-rows tbody tr');
    await expect.poll(() => rows.count(), WAIT).toBe(2);
    expect(await page.locator('#push-rows tbody').textContent()).toContain('c');
    await appendJson('push_src', shardId!, [{ id: 'd', temp: 40 }]);
    await expect.poll(() => rows.count(), WAIT).toBe(3);
    await shot(page, 'push-query');

    await page.getByRole('button', { name: 'Stop push query' }).click();
    await page.getByRole('button', { name: 'Stop push query' }).waitFor({ state: 'detached', ...WAIT });
    const after = await eventually(async () => {
      const now = await names();
      return now.some((n) => n.startsWith('console_generated_')) ? undefined : now;
    }, 20_000);
    expect(after.sort()).toEqual(before.sort());
    await page.close();
  });

  it('shows a SQL error with its line and column', async () => {
    const page = await open('sql');
    await page.getByLabel(/Statement/).fill('SHOW STREAMS;\n');
    await page.getByLabel(/Statement/).fill('SELECT *\nFROM push_src WHER x = 1;');
    await page.getByRole('button', { name: 'Run' }).click();
    const alert = await page.getByRole('alert').textContent(WAIT);
    expect(alert).toMatch(/line 2, column \d+/);
    await page.close();
  });

  it('deletes a stream after asking, with force', async () => {
    await createStream(t.client, 'doomed');
    await t.client.unary('CreateSubscription', { subscriptionId: 'doomed_sub', streamName: 'doomed', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    const page = await open('streams');
    await page.getByRole('button', { name: 'Delete stream doomed' }).click(WAIT);
    await page.getByRole('group', { name: 'Confirm deleting stream doomed' }).getByLabel(/force/).check();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByRole('link', { name: 'doomed', exact: true }).waitFor({ state: 'detached', ...WAIT });
    const { streams } = await t.client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {});
    expect(streams.map((s) => s.streamName)).not.toContain('doomed');
    await page.close();
  });

  it('shows subscriptions with their consumers, offsets and lag', async () => {
    const [shardId] = await createStream(t.client, 'sub_src');
    await appendJson('sub_src', shardId!, [{ x: 1 }]);
    await t.client.unary('CreateSubscription', { subscriptionId: 'sub_view', streamName: 'sub_src', ackTimeoutSeconds: 30, maxUnackedRecords: 100, offset: 'EARLIEST' });
    const page = await open('subscriptions/sub_view');
    await page.getByRole('heading', { name: 'Subscription sub_view' }).waitFor(WAIT);
    const lag = page.locator('table:has(caption:text("Shards")) tbody tr td').nth(3);
    await expect.poll(() => lag.textContent(), WAIT).toBe('1');
    await shot(page, 'subscription');
    await page.close();
  });

  it('labels every control and reaches the main ones with the keyboard', async () => {
    await createStream(t.client, 'a11y_stream', 2);
    for (const hash of ['streams', 'streams/a11y_stream', 'sql', 'subscriptions', 'queries']) {
      const page = await open(hash);
      await page.locator('main h1').waitFor(WAIT);
      // the page has loaded its data: a table, the empty-list note, or (SQL) the editor
      await page.locator('main table, main p.empty, main textarea').first().waitFor(WAIT);
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll('input, select, textarea, button, a[href]')]
          .filter((el) => {
            const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
            return !labelled && !(el.textContent ?? '').trim();
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      expect(unnamed, hash).toEqual([]);
      await page.close();
    }

    const page = await open('overview');
    await page.locator('main h1').waitFor(WAIT);
    // Tab from the top: the section links come first, and Enter follows one
    const reached: string[] = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
      if (reached.at(-1) === 'Streams') break;
    }
    expect(reached).toContain('Streams');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Streams' }).waitFor(WAIT);
    await page.getByLabel('Name').focus();
    await page.keyboard.type('typed_stream');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('shard_count');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'typed_stream' }).waitFor(WAIT);
    await page.close();
  });

  it('creates a view from the SQL editor, shows its rows and plan, and terminates its query', async () => {
    const [shardId] = await createStream(t.client, 'view_src');
    const page = await open('sql');
    await page.getByLabel(/Statement/).fill('CREATE VIEW per_room AS SELECT room, COUNT(*) AS n FROM view_src GROUP BY room;');
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('table:has(caption:text("Result of createView"))').waitFor(WAIT);
    // a query reads what is appended after it starts
    await appendJson('view_src', shardId!, [{ room: 'lab' }, { room: 'lab' }, { room: 'hall' }]);
    await page.goto(`${base}/#/views/per_room`);
    const rows = page.locator('table:has(caption:text("Rows of per_room")) tbody tr');
    await expect.poll(() => rows.count(), WAIT).toBe(2);
    expect(await rows.filter({ hasText: 'lab' }).locator('td').allTextContents()).toEqual(expect.arrayContaining(['lab', '2']));

    await page.goto(`${base}/#/queries`);
    const link = page.locator('table:has(caption:text("Queries")) a').first();
    const queryId = (await link.textContent(WAIT))!;
    await link.click();
    await page.locator('pre.plan').waitFor(WAIT);
    expect(await page.locator('pre.plan').textContent()).toMatch(/^(?!\(no plan)[\s\S]*view_src/);
    await shot(page, 'query');
    await page.getByRole('button', { name: `Terminate query ${queryId}` }).click();
    await page.getByRole('button', { name: `Resume query ${queryId}` }).waitFor(WAIT);
    const q = await t.client.unary<{ status: string }>('GetQuery', { id: queryId });
    expect(String(q.status)).toMatch(/TERMINATED/);
    await page.close();
  });

  it('pauses and resumes a connector and shows its logs', async () => {
    await createStream(t.client, 'sink_src');
    await t.client.unary('CreateConnector', { name: 'bh_console', type: 'sink', target: 'blackhole', config: JSON.stringify({ stream: 'sink_src' }) });
    const page = await open('connectors');
    const row = page.locator('tr', { hasText: 'bh_console' });
    await row.getByRole('button', { name: 'Pause' }).click(WAIT);
    await row.getByRole('button', { name: 'Resume' }).waitFor(WAIT);
    expect((await t.client.unary<{ status: string }>('GetConnector', { name: 'bh_console' })).status).toBe('STOPPED');
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByRole('button', { name: 'Pause' }).waitFor(WAIT);
    expect((await t.client.unary<{ status: string }>('GetConnector', { name: 'bh_console' })).status).toBe('RUNNING');
    await page.getByRole('button', { name: 'Show logs of bh_console' }).click();
    await page.getByRole('heading', { name: 'Logs of bh_console' }).waitFor(WAIT);
    await shot(page, 'connectors');
    await page.close();
  });

  it('asks for the token once and keeps it for the tab', async () => {
    const token = 'browser-token-0123456';
    const guarded = await startTestServer({ httpPort: 0, httpToken: token });
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(`http://127.0.0.1:${guarded.server.httpPort}/#/streams`);
      await page.getByLabel('Token', { exact: true }).fill('wrong-token-000');
      await page.getByRole('button', { name: 'Open the console' }).click();
      await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor(WAIT);
      await page.getByLabel('Token', { exact: true }).fill(token);
      await page.getByRole('button', { name: 'Open the console' }).click();
      await page.getByRole('heading', { name: 'Streams' }).waitFor(WAIT);
      // a reload in the same tab does not ask again
      await page.reload();
      await page.getByRole('heading', { name: 'Streams' }).waitFor(WAIT);
      await shot(page, 'token-accepted');
    } finally {
      await page.close();
      await guarded.destroy();
    }
  });
});

/**
 * Regression for the reliability finding storage/wal-flip-loses-newest-batches: a bit flipped in
 * the newest record of LevelDB's write-ahead log made recovery drop the newest acknowledged
 * batches without a trace (no hole is left at the end of a log). The tail marker outside LevelDB
 * remembers acknowledged tails: the lost batches now read as STORE_CORRUPTION (DATA_LOSS on the
 * wire), the tail stays, new appends continue above it, and an error names the shard and range.
 */
import { copyFileSync, openSync, readdirSync, readSync, closeSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_LSN, LogStore, isStoreError } from '../../../storage/index.js';
import { TAIL_MARKER_FILE } from '../../../storage/tail-marker.js';
import { captureLog, entry, tempDirsPerTest } from './helpers.js';

const newDir = tempDirsPerTest();

function open(location: string, sync = false) {
  const { logger, lines } = captureLog();
  const opening = LogStore.open({ location, sync, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 20, logger });
  return opening.then((store) => ({ store, lines }));
}

/** Flips one bit in the last byte of the newest write-ahead log: its newest record fails its checksum. */
function flipNewestWalRecord(location: string): void {
  const wal = readdirSync(location)
    .filter((f) => /^\d+\.log$/.test(f))
    .sort((a, b) => parseInt(a) - parseInt(b))
    .pop()!;
  const path = join(location, wal);
  const at = statSync(path).size - 1;
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0]! ^= 0x10;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

const readErr = (store: LogStore, shardId: number, from: number, to: number) => store.read(shardId, from, to, 1000, 1 << 24).then(() => undefined, (err: unknown) => err);
const lsns = async (store: LogStore, shardId: number, from: number, to: number) => (await store.read(shardId, from, to, 1000, 1 << 24)).map((b) => b.lsn);

describe('acknowledged batches lost at the end of the write-ahead log', () => {
  it.each([false, true])('are reported, not hidden (fsync %s): reads fail with STORE_CORRUPTION, the tail stays, the next append goes above it', async (sync) => {
    const location = newDir();
    let { store } = await open(location, sync);
    await store.createLogs([7, 8], []);
    for (let i = 0; i < 4; i++) await store.append(7, entry(`a${i}`));
    await store.append(8, entry('other shard'));
    // one group commit of three appends: one write-ahead log record
    const group = await Promise.all(['g0', 'g1', 'g2'].map((t) => store.append(7, entry(t))));
    expect(group.map((r) => r.lsn)).toEqual([FIRST_LSN + 4, FIRST_LSN + 5, FIRST_LSN + 6]);
    await store.close();

    flipNewestWalRecord(location);
    let lines;
    ({ store, lines } = await open(location, sync));
    expect(store.tail(7)).toBe(FIRST_LSN + 6);
    expect(await lsns(store, 7, 0, FIRST_LSN + 3)).toEqual([FIRST_LSN, FIRST_LSN + 1, FIRST_LSN + 2, FIRST_LSN + 3]);
    for (const [from, to] of [[FIRST_LSN + 4, FIRST_LSN + 4], [FIRST_LSN + 6, FIRST_LSN + 6], [0, Infinity]] as const) {
      const err = await readErr(store, 7, from, to);
      expect(isStoreError(err, 'STORE_CORRUPTION'), `read ${from}..${to}: ${String(err)}`).toBe(true);
    }
    expect(await lsns(store, 8, 0, Infinity)).toEqual([FIRST_LSN]);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.obj).toMatchObject({ shardId: 7, firstLost: FIRST_LSN + 4, lastLost: FIRST_LSN + 6 });
    expect(errors[0]!.msg).toMatch(/shard 7/);

    // never reuses an acknowledged LSN; the loss stays visible as a hole from now on
    expect((await store.append(7, entry('next'))).lsn).toBe(FIRST_LSN + 7);
    await store.close();
    ({ store, lines } = await open(location, sync));
    expect(store.tail(7)).toBe(FIRST_LSN + 7);
    expect(await lsns(store, 7, FIRST_LSN + 7, Infinity)).toEqual([FIRST_LSN + 7]);
    expect(isStoreError(await readErr(store, 7, 0, Infinity), 'STORE_CORRUPTION')).toBe(true);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    await store.close();
  });

  it('a restart without further appends reports the loss again', async () => {
    const location = newDir();
    let { store } = await open(location);
    await store.createLogs([1], []);
    await store.append(1, entry('a'));
    await store.append(1, entry('b'));
    await store.close();
    flipNewestWalRecord(location);
    for (let i = 0; i < 2; i++) {
      const reopened = await open(location);
      store = reopened.store;
      expect(store.tail(1)).toBe(FIRST_LSN + 1);
      expect(isStoreError(await readErr(store, 1, FIRST_LSN + 1, FIRST_LSN + 1), 'STORE_CORRUPTION')).toBe(true);
      expect(reopened.lines.filter((l) => l.level === 'error')).toHaveLength(1);
      await store.close();
    }
  });
});

describe('the tail marker never raises a false alarm', () => {
  it('a marker that lags behind the log (a crash between the two writes) is harmless', async () => {
    const location = newDir();
    let { store } = await open(location);
    await store.createLogs([2], []);
    await store.append(2, entry('a'));
    copyFileSync(join(location, TAIL_MARKER_FILE), join(location, 'marker-then'));
    await store.append(2, entry('b'));
    await store.close();
    copyFileSync(join(location, 'marker-then'), join(location, TAIL_MARKER_FILE));
    let lines;
    ({ store, lines } = await open(location));
    expect(store.tail(2)).toBe(FIRST_LSN + 1);
    expect(await lsns(store, 2, 0, Infinity)).toEqual([FIRST_LSN, FIRST_LSN + 1]);
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
    await store.close();
  });

  it('a damaged or missing marker is ignored (nothing is checked), a trimmed or deleted log is no loss', async () => {
    const location = newDir();
    let { store } = await open(location);
    await store.createLogs([3, 4, 5], []);
    for (const shardId of [3, 4, 5]) for (let i = 0; i < 3; i++) await store.append(shardId, entry(`${shardId}-${i}`));
    await store.trim(4, FIRST_LSN + 2);
    await store.deleteLogs([5], []);
    await store.close();
    let lines;
    ({ store, lines } = await open(location));
    expect([store.tail(3), store.tail(4), store.hasLog(5)]).toEqual([FIRST_LSN + 2, FIRST_LSN + 2, false]);
    expect(lines).toEqual([]);
    await store.close();

    writeFileSync(join(location, TAIL_MARKER_FILE), Buffer.alloc(96, 0xab));
    ({ store, lines } = await open(location));
    expect(store.tail(3)).toBe(FIRST_LSN + 2);
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect((await store.append(3, entry('x'))).lsn).toBe(FIRST_LSN + 3);
    await store.close();

    rmSync(join(location, TAIL_MARKER_FILE));
    ({ store, lines } = await open(location));
    expect(store.tail(3)).toBe(FIRST_LSN + 3);
    expect(lines).toEqual([]);
    await store.close();
  });
});

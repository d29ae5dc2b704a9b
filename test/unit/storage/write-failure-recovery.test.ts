/**
 * Regression for the reliability finding storage/no-recovery-after-space-freed: after a failed
 * write the store refused writes until the server restarted. It now reopens the database in the
 * background once the fault clears and accepts appends again, in the same LogStore object, with
 * every acknowledged batch kept and no acknowledged LSN handed out twice.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_LSN, LogStore, isStoreError } from '../../../storage/index.js';
import { tempDir } from '../../helpers/server.js';
import { captureLog, entry, eventually, Fault } from './helpers.js';

const dirs: string[] = [];
const stores: LogStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `location` null: in memory */
async function openStore(fault: Fault, where?: string | null) {
  const location = where === null ? undefined : (where ?? tempDir());
  if (location) dirs.push(location);
  const { logger, lines } = captureLog();
  const store = await LogStore.open({
    location,
    sync: false,
    segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 },
    maxQueuedBytes: 1 << 20,
    logger,
    reopenBackoffMs: { first: 10, max: 50 },
    wrapKv: fault.wrap,
  });
  stores.push(store);
  return { store, lines, location };
}

const payloads = async (store: LogStore, shardId: number) =>
  (await store.read(shardId, 0, Infinity, 1000, 1 << 24)).map((b) => [b.lsn, b.payload.toString()]);

describe('LogStore after a failed write', () => {
  it('refuses writes while the fault lasts, keeps serving reads, and accepts appends again once it clears, without a restart', async () => {
    const fault = new Fault();
    const { store, lines, location } = await openStore(fault);
    await store.createLogs([1, 2], []);
    const acked: Array<[number, string]> = [];
    for (let i = 0; i < 3; i++) acked.push([(await store.append(1, entry(`a${i}`))).lsn, `a${i}`]);
    const waiting = store.waitForAppend(1, store.tail(1), 10_000);

    fault.writes = 'lost';
    const failed = await store.append(1, entry('lost')).catch((err: unknown) => err);
    expect(isStoreError(failed, 'STORE_IO'), String(failed)).toBe(true);
    expect(store.writeFailure).toBeDefined();
    // still failing after reopens while the fault lasts (each write attempt fails again)
    await new Promise((r) => setTimeout(r, 150));
    await expect(store.append(2, entry('x'))).rejects.toMatchObject({ code: 'STORE_IO' });
    await expect(store.meta.put('some/key', 1)).rejects.toMatchObject({ code: 'STORE_IO' });
    expect(await payloads(store, 1)).toEqual(acked);
    expect(store.tail(1)).toBe(FIRST_LSN + 2);
    expect(fault.opened).toBeGreaterThan(1);

    fault.writes = undefined;
    const next = await eventually(() => store.append(1, entry('after')));
    // The failed batch never reached the log, so its LSN (never acknowledged) is handed out again.
    expect(next.lsn).toBe(FIRST_LSN + 3);
    acked.push([next.lsn, 'after']);
    expect(await waiting).toBe(true);
    expect(store.writeFailure).toBeUndefined();
    expect(store.tail(1)).toBe(next.lsn);
    expect(await payloads(store, 1)).toEqual(acked);
    acked.push([(await store.append(1, entry('more'))).lsn, 'more']);
    expect((await store.append(2, entry('other'))).lsn).toBe(FIRST_LSN);
    await store.meta.put('some/key', 2);
    expect(await store.meta.get('some/key')).toBe(2);
    expect(lines.some((l) => l.level === 'warn' && /write to the data directory failed/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.level === 'info' && /reopened/.test(l.msg))).toBe(true);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);

    // and a restart sees the same
    await store.close();
    const again = await openStore(new Fault(), location);
    expect(again.store.tail(1)).toBe(acked[acked.length - 1]![0]);
    expect(await payloads(again.store, 1)).toEqual(acked);
    expect(await again.store.meta.get('some/key')).toBe(2);
  });

  it('a failed write that was stored after all (a failed sync) becomes readable, and the next LSN follows it', async () => {
    const fault = new Fault();
    const { store } = await openStore(fault);
    await store.createLogs([3], []);
    await store.append(3, entry('a'));
    fault.writes = 'stored';
    await expect(store.append(3, entry('unknown outcome'))).rejects.toMatchObject({ code: 'STORE_IO' });
    expect(store.tail(3)).toBe(FIRST_LSN);
    fault.writes = undefined;
    const next = await eventually(() => store.append(3, entry('b')));
    expect(next.lsn).toBe(FIRST_LSN + 2);
    expect(await payloads(store, 3)).toEqual([
      [FIRST_LSN, 'a'],
      [FIRST_LSN + 1, 'unknown outcome'],
      [FIRST_LSN + 2, 'b'],
    ]);
  });

  it('reads fail cleanly while the database cannot be opened again, and everything comes back when it can', async () => {
    const fault = new Fault();
    const { store } = await openStore(fault);
    await store.createLogs([4], []);
    const first = await store.append(4, entry('kept'));
    fault.opens = true;
    fault.writes = 'lost';
    await expect(store.append(4, entry('x'))).rejects.toMatchObject({ code: 'STORE_IO' });
    await eventually(async () => {
      const err = await store.read(4, 0, Infinity, 10, 1 << 20).then(() => undefined, (e: unknown) => e);
      if (!isStoreError(err, 'STORE_IO')) throw new Error('reads still served from the old database');
    });
    fault.opens = false;
    fault.writes = undefined;
    const next = await eventually(() => store.append(4, entry('back')));
    expect(next.lsn).toBe(first.lsn + 1);
    expect(await payloads(store, 4)).toEqual([
      [first.lsn, 'kept'],
      [next.lsn, 'back'],
    ]);
  });

  it('stops trying to reopen once closed', async () => {
    const fault = new Fault();
    fault.writes = 'lost';
    const { store } = await openStore(fault);
    await expect(store.createLogs([5], [])).rejects.toMatchObject({ code: 'STORE_IO' });
    await new Promise((r) => setTimeout(r, 60));
    await store.close();
    const opened = fault.opened;
    await new Promise((r) => setTimeout(r, 150));
    expect(fault.opened).toBe(opened);
    await expect(store.append(5, entry('x'))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('in memory, a failed write stays failed (there is nothing to reopen)', async () => {
    const fault = new Fault();
    const { store, lines } = await openStore(fault, null);
    await store.createLogs([6], []);
    fault.writes = 'lost';
    await expect(store.append(6, entry('x'))).rejects.toMatchObject({ code: 'STORE_IO' });
    fault.writes = undefined;
    await new Promise((r) => setTimeout(r, 100));
    await expect(store.append(6, entry('y'))).rejects.toMatchObject({ code: 'STORE_IO' });
    expect(fault.opened).toBe(1);
    expect(lines.some((l) => l.level === 'error')).toBe(true);
  });
});

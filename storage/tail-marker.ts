/**
 * A record of each shard's acknowledged tail kept outside LevelDB, so that
 * recovery can tell when LevelDB lost the newest acknowledged batches.
 *
 * Why: LevelDB recovery (without paranoid checks) skips a write-ahead-log
 * record whose checksum fails, and everything after it in its 32 KiB block.
 * In the middle of a shard's log that leaves a hole, which reads report; at
 * the end of a shard's log it leaves nothing to see (test/reliability,
 * storage faults). Paranoid checks would refuse to open the whole directory
 * for one bad record, and a marker inside LevelDB would be lost with the same
 * log record, so the tail lives in a file of its own.
 *
 * Layout: one 32-byte slot per shard (torn writes cannot span one: slots are
 * aligned and sectors are at least 512 bytes), overwritten in place with one
 * positional write on an open descriptor after each group commit:
 *
 *   u32 BE crc32 of bytes 4..31 | u8 version (1) | 3 zero bytes
 *   u32 BE shardId high | u32 BE shardId low | u32 BE tail high | u32 BE tail low
 *   u32 BE time high | u32 BE time low
 *
 * The time is the store time of the tail's batch (ms), so that a restart after
 * a clean shutdown needs no read of the batch (see clean-shutdown.ts); 0 when
 * unknown (written by a version that left those bytes zero, which reads such
 * slots the same).
 *
 * An all-zero slot is free; a slot that fails its checksum is ignored (that
 * shard is then not checked: safe, never a false alarm).
 *
 * The one rule: a slot never claims more than LevelDB holds at least as
 * durably. A tail is written only after the LevelDB batch that stored it has
 * resolved, and only for batches that are acknowledged, so:
 *   - default mode (no fsync): both are in the OS page cache when the slot is
 *     written, so a process crash keeps both, and a crash between the LevelDB
 *     write and the slot write leaves the slot behind, not ahead. After an OS
 *     crash or power loss the slot may survive while the log's tail did not:
 *     then acknowledged batches really are gone (this mode does not promise
 *     to survive power loss), and saying so is right.
 *   - --fsync mode: everything in the file was written after the data it
 *     vouches for was synced, so whenever it reaches the disk it claims no
 *     more than the synced log holds. A timer fdatasyncs it at most 100 ms
 *     after a change, off the append path, and close syncs it: after a power
 *     loss it lags by at most the last ~100 ms of acknowledged appends, whose
 *     loss to a damaged log record would go unnoticed. (Syncing it with every
 *     group commit, concurrently with LevelDB's sync, bounds that to one group
 *     but took a second fdatasync per commit: +25% latency for sequential
 *     synced 1 KiB appends on the reference VM.)
 * A failed slot write only makes the marker lag (logged once): never an error
 * for the append it follows.
 */
import { closeSync, constants, fdatasync, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { StoreLogger } from './logger.js';

export const TAIL_MARKER_FILE = 'ACKED-TAILS';
const SLOT_BYTES = 32;
const VERSION = 1;
const U32 = 2 ** 32;
/** --fsync mode: a change is synced at most this long after it is written. */
const SYNC_DELAY_MS = 100;

export class TailMarker {
  /** shardId -> slot index */
  private readonly slots = new Map<number, number>();
  private readonly free: number[] = [];
  /** no slot was damaged at open and no slot write failed since: every tail written is in the file */
  #intact = true;
  private slotCount = 0;
  private readonly buf = Buffer.alloc(SLOT_BYTES);
  private dirty = false;
  private closed = false;
  private failing = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  private constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly sync: boolean,
    private readonly logger: StoreLogger,
  ) {}

  /**
   * Opens (or creates) the marker of a data directory and returns the tails
   * it vouches for. Without a usable file, recovery checks nothing and no
   * marker is kept: the data is served all the same (logged).
   */
  static open(dir: string, sync: boolean, logger: StoreLogger): OpenedMarker {
    const path = join(dir, TAIL_MARKER_FILE);
    const tails = new Map<number, number>();
    const times = new Map<number, number>();
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
      const size = fstatSync(fd).size;
      const bytes = Buffer.alloc(size);
      if (size > 0) readSync(fd, bytes, 0, size, 0);
      const marker = new TailMarker(fd, path, sync, logger);
      marker.slotCount = Math.ceil(size / SLOT_BYTES);
      let damaged = 0;
      for (let i = 0; i < marker.slotCount; i++) {
        const slot = decodeSlot(bytes.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES));
        if (slot === 'damaged') damaged++;
        const known = typeof slot === 'object' ? tails.get(slot.shardId) : undefined;
        if (typeof slot !== 'object' || (known !== undefined && known >= slot.tail)) {
          marker.free.push(i);
          continue;
        }
        // A shard in two slots (a freed slot not yet overwritten): both were true when written.
        const previous = marker.slots.get(slot.shardId);
        if (previous !== undefined) marker.free.push(previous);
        marker.slots.set(slot.shardId, i);
        tails.set(slot.shardId, slot.tail);
        if (slot.timeMs > 0) times.set(slot.shardId, slot.timeMs);
        else times.delete(slot.shardId);
      }
      if (damaged > 0) {
        marker.#intact = false;
        logger.warn({ path, damaged }, 'tail marker slots failed their checksum and are ignored');
      }
      // The new file's name must survive a power loss too, or it would vouch for nothing.
      if (size === 0 && sync) syncPath(dir);
      return { marker, tails, times, digest: crc32(bytes) };
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      logger.warn({ err, path }, 'cannot use the tail marker file: newest acknowledged batches lost by LevelDB will go unnoticed');
      return { marker: undefined, tails: new Map(), times: new Map(), digest: undefined };
    }
  }

  /** True while every tail set since open is in the file and the file had no damaged slot. */
  get intact(): boolean {
    return this.#intact && !this.failing;
  }

  /** Records an acknowledged tail and its batch's store time (after the LevelDB write that stored it resolved). */
  set(shardId: number, tail: number, timeMs: number): void {
    if (this.closed) return;
    let slot = this.slots.get(shardId);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.slotCount++;
      this.slots.set(shardId, slot);
    }
    const b = this.buf;
    b.fill(0, 4);
    b[4] = VERSION;
    b.writeUInt32BE(Math.floor(shardId / U32), 8);
    b.writeUInt32BE(shardId >>> 0, 12);
    b.writeUInt32BE(Math.floor(tail / U32), 16);
    b.writeUInt32BE(tail >>> 0, 20);
    const time = Number.isSafeInteger(timeMs) && timeMs > 0 ? timeMs : 0;
    b.writeUInt32BE(Math.floor(time / U32), 24);
    b.writeUInt32BE(time >>> 0, 28);
    b.writeUInt32BE(crc32(b.subarray(4)), 0);
    this.writeSlot(slot, b);
  }

  /** Forgets a shard (deleted, or unknown to the data directory). */
  drop(shardId: number): void {
    const slot = this.slots.get(shardId);
    if (slot === undefined || this.closed) return;
    this.slots.delete(shardId);
    this.writeSlot(slot, Buffer.alloc(SLOT_BYTES));
    this.free.push(slot);
  }

  /** Drops every shard not in `shardIds`. */
  retain(shardIds: { has(shardId: number): boolean }): void {
    for (const shardId of [...this.slots.keys()]) if (!shardIds.has(shardId)) this.drop(shardId);
  }

  /**
   * Syncs what is written (in --fsync mode, or always when `durable`) and closes the file. Resolves
   * with the crc32 of the whole file when it is durable and intact (undefined otherwise).
   */
  async close(durable = false): Promise<number | undefined> {
    if (this.closed) return undefined;
    this.closed = true;
    clearTimeout(this.syncTimer);
    await this.syncing;
    let digest: number | undefined;
    try {
      // durable: also what an earlier run wrote and a crash may have left unsynced
      if ((this.sync && this.dirty) || durable) fdatasyncSync(this.fd);
      if (durable && this.intact) {
        const size = fstatSync(this.fd).size;
        const bytes = Buffer.alloc(size);
        if (size > 0) readSync(this.fd, bytes, 0, size, 0);
        digest = crc32(bytes);
      }
    } catch (err) {
      this.failed(err);
      digest = undefined;
    }
    closeSync(this.fd);
    return digest;
  }

  /** --fsync mode: fdatasync soon (a failure only makes the marker lag, logged). */
  private scheduleSync(): void {
    if (!this.sync || this.syncTimer || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      if (this.syncing || this.closed) return this.scheduleSync();
      this.dirty = false;
      this.syncing = new Promise((resolve) => {
        fdatasync(this.fd, (err) => {
          if (err) this.failed(err);
          this.syncing = undefined;
          if (this.dirty) this.scheduleSync();
          resolve();
        });
      });
    }, SYNC_DELAY_MS);
    this.syncTimer.unref();
  }

  private writeSlot(slot: number, bytes: Buffer): void {
    try {
      writeSync(this.fd, bytes, 0, SLOT_BYTES, slot * SLOT_BYTES);
      this.dirty = true;
      this.scheduleSync();
      if (this.failing) {
        this.failing = false;
        this.logger.info({ path: this.path }, 'tail marker writes work again');
      }
    } catch (err) {
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger.warn({ err, path: this.path }, 'cannot update the tail marker: it lags behind (safe), so lost newest batches may go unnoticed');
  }
}

export interface OpenedMarker {
  marker: TailMarker | undefined;
  /** acknowledged tail of each shard the marker knows */
  tails: Map<number, number>;
  /** store time of each such tail's batch, where the slot records one */
  times: Map<number, number>;
  /** crc32 of the whole file as read (undefined without a usable file) */
  digest: number | undefined;
}

function decodeSlot(slot: Buffer): { shardId: number; tail: number; timeMs: number } | 'free' | 'damaged' {
  if (slot.length < SLOT_BYTES) return 'damaged';
  if (slot.every((byte) => byte === 0)) return 'free';
  if (slot[4] !== VERSION || crc32(slot.subarray(4)) !== slot.readUInt32BE(0)) return 'damaged';
  return {
    shardId: slot.readUInt32BE(8) * U32 + slot.readUInt32BE(12),
    tail: slot.readUInt32BE(16) * U32 + slot.readUInt32BE(20),
    timeMs: slot.readUInt32BE(24) * U32 + slot.readUInt32BE(28),
  };
}

/** fsync of a file or a directory (its entries), by path. */
export function syncPath(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

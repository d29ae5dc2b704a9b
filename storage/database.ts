/**
 * The store's LevelDB handle and its way back from a failed write.
 *
 * A failed write makes the store refuse every later write (LevelDB itself
 * does the same after a failed sync): the outcome of the failed batch is
 * unknown, and after a failed unsynced write LevelDB's log may end in a torn
 * record that later records would follow (recovery drops the rest of a block
 * after a bad record), so nothing more may be written to that database. The
 * handle then reopens the database in the background (backoff 100 ms
 * doubling to 5 s, once there is room to: see reopenBlocker) while the
 * writer is held, lets the store rebuild its state from it, and accepts
 * writes again. Reads use the old database until the swap and wait for it
 * during it.
 */
import { StoreError } from './errors.js';
import { openKv, reopenBlocker, type Kv, type KvOp } from './kv.js';
import type { StoreLogger } from './logger.js';

const DEFAULT_REOPEN_BACKOFF_MS = { first: 100, max: 5000 };
/** While the database cannot be reopened, say why at most this often. */
const BLOCKED_LOG_INTERVAL_MS = 60_000;

export interface DatabaseOptions {
  /** Directory of the LevelDB database; undefined keeps everything in memory (and never reopens). */
  location: string | undefined;
  /** delays between attempts to reopen the database after a write failure */
  reopenBackoffMs?: { first: number; max: number };
  /** wraps every database opened (tests inject faults with it) */
  wrapKv?: (kv: Kv) => Kv;
}

export interface DatabaseHooks {
  /** runs `fn` while no write is in progress and none starts */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Reads the store's state from a freshly reopened database. Resolves with
   * a function that makes it the store's, called once the database is the
   * current one; throwing keeps the store without a database until the next attempt.
   */
  recover(kv: Kv): Promise<() => void>;
}

export async function openDatabaseKv(options: DatabaseOptions): Promise<Kv> {
  const kv = await openKv(options.location);
  try {
    return options.wrapKv ? options.wrapKv(kv) : kv;
  } catch (err) {
    await kv.close().catch(() => undefined);
    throw err;
  }
}

export class Database {
  #kv: Kv;
  /** false while a reopen has closed the failed database and not opened it again */
  #open = true;
  #failure: StoreError | undefined;
  #failedAt = 0;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #reopenTimer: NodeJS.Timeout | undefined;
  #blockedLoggedAt = 0;
  /** set while the database is being swapped: reads wait for it */
  #gate: Promise<void> | undefined;
  #activeReads = 0;
  #readsDrained: (() => void) | undefined;

  constructor(
    kv: Kv,
    private readonly options: DatabaseOptions,
    private readonly logger: StoreLogger,
    private readonly hooks: DatabaseHooks,
  ) {
    this.#kv = kv;
  }

  /** The write failure while it lasts (until the database is reopened). */
  get failure(): StoreError | undefined {
    return this.#failure;
  }

  /** Writes one batch; a failure becomes the store's failure (and starts reopening), and is thrown. */
  async batch(ops: KvOp[], sync: boolean): Promise<void> {
    if (this.#failure) throw this.#failure;
    try {
      await this.#kv.batch(ops, { sync });
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /** Runs a read against the current database: waits while it is being swapped, fails if it is not open. */
  async withKv<T>(fn: (kv: Kv) => Promise<T>): Promise<T> {
    while (this.#gate) await this.#gate;
    if (this.#state === 'closed') throw new StoreError('STORE_CLOSED', 'the store is closed');
    if (!this.#open) throw new StoreError('STORE_IO', 'the data directory is being reopened after a write failure');
    this.#activeReads++;
    try {
      return await fn(this.#kv);
    } finally {
      if (--this.#activeReads === 0 && this.#readsDrained) {
        this.#readsDrained();
        this.#readsDrained = undefined;
      }
    }
  }

  /** No more reopen attempts (the store is closing; its writer drains first). */
  stopReopening(): void {
    this.#state = 'closing';
    clearTimeout(this.#reopenTimer);
  }

  async close(): Promise<void> {
    this.stopReopening();
    this.#state = 'closed';
    if (this.#open) {
      this.#open = false;
      await this.#kv.close();
    }
  }

  #fail(err: unknown): StoreError {
    if (this.#failure) return this.#failure;
    const message = `write to the data directory failed: ${(err as Error).message}`;
    this.#failure = new StoreError('STORE_IO', message, { cause: err });
    this.#failedAt = Date.now();
    if (this.options.location === undefined) {
      this.logger.error({ err }, 'a write to the in-memory store failed: it refuses writes from now on');
    } else {
      this.logger.warn({ err }, 'a write to the data directory failed: writes are refused until the database is reopened');
      this.#scheduleReopen(this.#backoff().first);
    }
    return this.#failure;
  }

  #backoff(): { first: number; max: number } {
    return this.options.reopenBackoffMs ?? DEFAULT_REOPEN_BACKOFF_MS;
  }

  #scheduleReopen(delayMs: number): void {
    if (this.#state !== 'open') return;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      void this.#tryReopen(delayMs);
    }, delayMs);
    this.#reopenTimer.unref();
  }

  async #tryReopen(delayMs: number): Promise<void> {
    const location = this.options.location!;
    const next = Math.min(delayMs * 2, this.#backoff().max);
    const blocked = await reopenBlocker(location);
    if (this.#state !== 'open') return;
    if (blocked) {
      if (Date.now() - this.#blockedLoggedAt >= BLOCKED_LOG_INTERVAL_MS) {
        this.#blockedLoggedAt = Date.now();
        this.logger.warn({ reason: blocked, location }, 'the data directory cannot be reopened yet: writes are still refused');
      }
      this.#scheduleReopen(next);
      return;
    }
    if (!(await this.hooks.exclusive(() => this.#reopen()))) this.#scheduleReopen(next);
  }

  /**
   * Closes the failed database, opens it again and has the store adopt what it holds. Returns
   * false if that failed; the database then stays closed (reads fail too) until the next attempt.
   */
  async #reopen(): Promise<boolean> {
    if (this.#state !== 'open' || !this.#failure) return true;
    let release!: () => void;
    this.#gate = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.#activeReads > 0) await new Promise<void>((resolve) => (this.#readsDrained = resolve));
      if (this.#open) {
        this.#open = false;
        await this.#kv.close().catch(() => undefined);
      }
      const kv = await openDatabaseKv(this.options);
      let adopt: () => void;
      try {
        adopt = await this.hooks.recover(kv);
      } catch (err) {
        await kv.close().catch(() => undefined);
        throw err;
      }
      this.#kv = kv;
      this.#open = true;
      adopt();
      this.logger.info({ failedForMs: Date.now() - this.#failedAt }, 'the data directory was reopened after a write failure: writes are accepted again');
      this.#failure = undefined;
      this.#blockedLoggedAt = 0;
      return true;
    } catch (err) {
      this.logger.warn({ err }, 'reopening the data directory failed: reads and writes are refused until it reopens');
      return false;
    } finally {
      this.#gate = undefined;
      release();
    }
  }
}

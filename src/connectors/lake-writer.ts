/**
 * The writer of a lake sink (parquet, jsonl): one open file per source
 * shard, held in memory until it rolls, then put in place whole
 * (lake-files.ts) and only then reported durable, so the runtime commits the
 * offset after the file exists. A crash before that replays the records;
 * records a file already holds are recognised by the file names of their
 * partition and skipped, so a replay adds no duplicate whatever its roll
 * boundaries.
 *
 * A file rolls when the records or bytes held over all open files reach
 * `roll.records` (never more than the subscription lets the sink hold) or
 * `roll.bytes`, when its shard's records move to another partition, and
 * when it is `roll.seconds` old: one timer per writer while a file is open,
 * none while idle. Closed files are written in the background, in order,
 * while the next ones fill (the records held stay within the subscription's
 * unacked bound, the bytes within one `roll.bytes` of closed files). A file
 * that cannot be written stays queued and is tried again before anything
 * newer, so a shard's files appear in record order; new records are taken
 * only once it is written.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SinkBatch, SinkContext, SinkWriter } from './driver.js';
import type { LakeFile, LakeFileFormat } from './lake-encode.js';
import { comparePos, fileName, lastInDirectory, partitionOf, writeAtomically, type Partitioning, type RecordPos } from './lake-files.js';
import { RecordPacker } from './lake-records.js';
import { coversFields, SchemaCatalog, type Field } from './lake-schema.js';
import { encodeLakeFileOffThread } from './parquet-encoder.js';

export interface LakeFormat {
  /** file extension, also what the replay scan looks for */
  readonly ext: string;
  readonly encoding: LakeFileFormat;
}

export interface LakeOptions {
  dir: string;
  format: LakeFormat;
  partition: Partitioning;
  rollRecords: number;
  rollBytes: number;
  rollSeconds: number;
}

export const REJECTED_DIR = '_rejected';
/** Packers kept for reuse: one file fills while one is encoded and one written. */
const MAX_SPARE_PACKERS = 2;
const MAX_SPARE_BYTES = 8 * 1024 * 1024;
/** A file that could not be written is tried again after this long (and before every write). */
const RETRY_MS = 5_000;

interface OpenFile {
  readonly shardId: number;
  readonly partition: string;
  readonly openedAt: number;
  first: RecordPos | undefined;
  last: RecordPos | undefined;
  /** the records' payloads and ids, read as JSON only by the encoder thread */
  readonly records: RecordPacker;
  readonly batches: SinkBatch[];
  bytes: number;
  /** the file's contents and schema, encoded from when the file is sealed (while older files are still being written) */
  encoded?: Promise<LakeFile>;
  /** records set aside in `_rejected/`, known once the file is encoded */
  rejectedCount?: number;
}

export class LakeWriter implements SinkWriter {
  readonly #opts: LakeOptions;
  readonly #ctx: SinkContext;
  readonly #log: Logger;
  readonly #schema: SchemaCatalog;
  readonly #open = new Map<number, OpenFile>();
  /** closed for writing, waiting to be put in place, oldest first */
  readonly #sealed: OpenFile[] = [];
  /** the last record per shard that files already hold, per partition visited since open */
  readonly #inFiles = new Map<string, Map<number, RecordPos>>();
  /** shards past the files' records: everything after is new (records come in order per shard) */
  readonly #caughtUp = new Set<number>();
  readonly #madeDirs = new Set<string>();
  /** what the open files hold: the roll sizes count these (sealed files are on their way out) */
  #inOpen = { records: 0, bytes: 0 };
  /** payload bytes of the sealed files */
  #sealedBytes = 0;
  /** the writes of sealed files, one after another */
  #flushes: Promise<void> = Promise.resolve();
  /** the oldest sealed file failed to be written: it goes first, before more records are taken */
  #stuck = false;
  /** packers of files written, for the next files: their memory is mapped already */
  readonly #spare: RecordPacker[] = [];
  /** the size of the last file sealed: the next one is likely as large */
  #lastSealed: { records: number; bytes: number } | undefined;
  /** the schema the last sealed file will have been encoded with: the next one starts from it */
  #sealedFields: Promise<readonly Field[]> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #serial: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(opts: LakeOptions, ctx: SinkContext, schema: SchemaCatalog) {
    this.#opts = opts;
    this.#ctx = ctx;
    this.#log = ctx.log;
    this.#schema = schema;
  }

  static async open(opts: LakeOptions, ctx: SinkContext): Promise<LakeWriter> {
    return new LakeWriter(opts, ctx, await SchemaCatalog.load(opts.dir));
  }

  write(batches: readonly SinkBatch[]): Promise<void> {
    return this.#exclusive(async () => {
      // A file that failed goes first, and closed files are written before they pile up past
      // one roll of bytes; failing here takes none of these batches, and the runtime retries them.
      if (this.#stuck || this.#sealedBytes >= this.#opts.rollBytes) await this.#queueFlush();
      for (const batch of batches) {
        if (!this.#caughtUp.has(batch.shardId)) await this.#lastInFiles(partitionOf(batch.timeMs, this.#opts.partition));
      }
      // From here nothing fails: the batches are taken whole.
      const limit = Math.min(this.#opts.rollRecords, this.#ctx.maxHeldRecords);
      const alreadyInFiles: SinkBatch[] = [];
      for (const batch of batches) {
        if (!this.#take(batch)) alreadyInFiles.push(batch);
        else if (this.#inOpen.records >= limit || this.#inOpen.bytes >= this.#opts.rollBytes) this.#sealAll();
      }
      if (alreadyInFiles.length > 0) this.#ctx.durable(alreadyInFiles, 0);
      // The batches are taken: sealed files are written while the next records come; one that
      // fails is retried by the timer and the next write.
      if (this.#sealed.length > 0) {
        this.#queueFlush()
          .catch((err: unknown) => this.#log.warn({ err }, 'writing a lake file failed; retrying'))
          .finally(() => this.#arm());
      }
      this.#arm();
    });
  }

  async close(): Promise<void> {
    await this.#exclusive(async () => {
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#sealAll();
      await this.#queueFlush().catch((err: unknown) => this.#log.warn({ err }, 'writing a lake file at close failed; its records will be read again'));
    });
  }

  /** Adds a batch to its shard's open file; false when files hold all its records already. */
  #take(batch: SinkBatch): boolean {
    const partition = partitionOf(batch.timeMs, this.#opts.partition);
    let file: OpenFile | undefined;
    let records = 0;
    let bytes = 0;
    let last: SinkBatch['records'][number] | undefined;
    for (const r of batch.records) {
      if (!this.#caughtUp.has(batch.shardId)) {
        const inFiles = this.#inFiles.get(partition)?.get(batch.shardId);
        if (inFiles && comparePos(r, inFiles) <= 0) continue;
        this.#caughtUp.add(batch.shardId);
      }
      file ??= this.#fileFor(batch.shardId, partition);
      file.first ??= { lsn: r.lsn, index: r.index };
      last = r;
      records++;
      bytes += r.record.payload.length;
      // only copied here: the encoder thread reads it as JSON when the file is sealed
      file.records.push(r.record.payload, r.lsn, r.index, r.record.header.flag === 'RAW');
    }
    if (!file) return false;
    file.last = { lsn: last!.lsn, index: last!.index };
    file.batches.push(batch);
    file.bytes += bytes;
    this.#inOpen.records += records;
    this.#inOpen.bytes += bytes;
    return true;
  }

  #fileFor(shardId: number, partition: string): OpenFile {
    let file = this.#open.get(shardId);
    if (file && file.partition !== partition) {
      this.#seal(file);
      file = undefined;
    }
    if (!file) {
      file = { shardId, partition, openedAt: Date.now(), first: undefined, last: undefined, records: this.#spare.pop() ?? new RecordPacker(this.#lastSealed), batches: [], bytes: 0 };
      this.#open.set(shardId, file);
    }
    return file;
  }

  async #lastInFiles(partition: string): Promise<Map<number, RecordPos>> {
    let last = this.#inFiles.get(partition);
    if (!last) {
      last = await lastInDirectory(join(this.#opts.dir, partition), this.#opts.format.ext);
      this.#inFiles.set(partition, last);
    }
    return last;
  }

  #seal(file: OpenFile): void {
    this.#open.delete(file.shardId);
    this.#inOpen.records -= file.records.count;
    this.#inOpen.bytes -= file.bytes;
    this.#sealedBytes += file.bytes;
    this.#sealed.push(file);
    this.#lastSealed = { records: file.records.count, bytes: file.bytes };
    // Encoding starts now: the encoder thread works on this file while the ones before it are
    // written and fsynced, starting from the schema the file before it ends with (requests are
    // answered in order). A failure surfaces when the file is put (and it is encoded again).
    const after = this.#sealedFields?.catch(() => this.#schema.fields) ?? Promise.resolve(this.#schema.fields);
    file.encoded = after.then((fields) => this.#encode(file, fields));
    file.encoded.catch(() => undefined);
    this.#sealedFields = file.encoded.then((encoded) => encoded.fields);
  }

  #encode(file: OpenFile, fields: readonly Field[]): Promise<LakeFile> {
    const request = { format: this.#opts.format.encoding, shardId: file.shardId, fields, records: file.records.packed(), createdBy: 'hstreamlite parquet sink' };
    return encodeLakeFileOffThread(request);
  }

  #sealAll(): void {
    for (const file of [...this.#open.values()]) this.#seal(file);
  }

  /** Writes the sealed files after the writes already queued; never two at once. */
  #queueFlush(): Promise<void> {
    const run = this.#flushes.then(() => this.#flush());
    this.#flushes = run.catch(() => undefined);
    return run;
  }

  /** Puts sealed files in place, oldest first; stops at the first failure (it stays first in line). */
  async #flush(): Promise<void> {
    try {
      while (this.#sealed.length > 0) {
        const file = this.#sealed[0]!;
        await this.#put(file);
        this.#sealed.shift();
        this.#sealedBytes -= file.bytes;
        this.#ctx.durable(file.batches, file.rejectedCount ?? 0);
        // the encoder thread is done with its records (the file is encoded and written)
        if (this.#spare.length < MAX_SPARE_PACKERS && file.records.capacity <= MAX_SPARE_BYTES) {
          file.records.clear();
          this.#spare.push(file.records);
        }
      }
      this.#stuck = false;
    } catch (err) {
      this.#stuck = true;
      throw err;
    }
  }

  async #put(file: OpenFile): Promise<void> {
    const name = fileName(file.shardId, file.first!, file.last!, this.#opts.format.ext);
    let encoded: LakeFile;
    try {
      encoded = await (file.encoded ??= this.#encode(file, this.#schema.fields));
      // Encoded after a file whose encoding failed (or before the catalog moved on): the files
      // written so far have columns it lacks, so it is made again from the saved schema.
      if (!coversFields(encoded.fields, this.#schema.fields)) encoded = await (file.encoded = this.#encode(file, this.#schema.fields));
    } catch (err) {
      file.encoded = undefined;
      throw err;
    }
    file.rejectedCount = encoded.rejected.length;
    if (encoded.rejected.length > 0) {
      // Before the data file, whose name is what a replay trusts: after a crash in between the
      // rejected lines are written again (each carries its record id), never lost.
      const dir = await this.#dir(join(REJECTED_DIR, file.partition));
      await writeAtomically(dir, fileName(file.shardId, file.first!, file.last!, 'jsonl'), `${encoded.rejected.join('\n')}\n`);
    }
    if (encoded.data === undefined) return;
    // this file's schema, as a new version naming it when it is the first to have it
    await this.#schema.save(this.#opts.dir, join(file.partition, name), encoded.fields);
    await writeAtomically(await this.#dir(file.partition), name, encoded.data);
    file.encoded = undefined;
  }

  async #dir(relative: string): Promise<string> {
    const dir = join(this.#opts.dir, relative);
    if (!this.#madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.#madeDirs.add(dir);
    }
    return dir;
  }

  /** One timer for the oldest open file (or a retry of a failed one); none when nothing is held. */
  #arm(): void {
    if (this.#closed) return;
    let at = Number.POSITIVE_INFINITY;
    for (const file of this.#open.values()) at = Math.min(at, file.openedAt + this.#opts.rollSeconds * 1000);
    if (this.#sealed.length > 0) at = Math.min(at, Date.now() + RETRY_MS);
    if (at === Number.POSITIVE_INFINITY) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#exclusive(async () => {
        const now = Date.now();
        for (const file of [...this.#open.values()]) if (file.openedAt + this.#opts.rollSeconds * 1000 <= now) this.#seal(file);
        await this.#queueFlush().catch((err: unknown) => this.#log.warn({ err }, 'writing a lake file failed; retrying'));
        this.#arm();
      });
    }, Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }
}

/**
 * ListStreams and ListStreamsWithPrefix answered from one encoding of the
 * catalogue, made on the first listing after a change and kept until the
 * next one (create, delete, archive: `StreamCatalog.listVersion`).
 *
 * Why: with 100k streams every listing converted and encoded 100k Stream
 * messages again (~110 ms of server CPU for ListStreams; the prefix variant
 * also built and filtered a second array, ~190 ms), although the catalogue
 * rarely changes between two listings. A prefix listing copies the matching
 * entries' bytes out of the same encoding (one slice when they are
 * contiguous), so it costs a name comparison per stream and no objects.
 *
 * Memory: the encoding is ~35 bytes per stream plus a 4-byte offset, made
 * only once something lists the streams.
 */
import type { StreamCatalog } from '../core/streams.js';
import { EncodedStreamList, encodeStreamEntries } from '../wire/stream-list.js';
import { toStreamMessage } from './convert.js';

interface Encoded {
  version: number;
  bytes: Buffer;
  /** where each stream's entry starts in `bytes`, and the end */
  offsets: Uint32Array;
  names: string[];
}

export class StreamListing {
  #encoded: Encoded | undefined;

  constructor(private readonly streams: StreamCatalog) {}

  /** Every live stream, in creation order. */
  all(): EncodedStreamList {
    const { bytes, names } = this.#current();
    return new EncodedStreamList(bytes, names.length);
  }

  /** The live streams whose name starts with `prefix`, in creation order. */
  withPrefix(prefix: string): EncodedStreamList {
    const { bytes, offsets, names } = this.#current();
    const runs: number[] = [];
    let count = 0;
    let total = 0;
    let runStart = -1;
    for (let i = 0; i <= names.length; i++) {
      if (i < names.length && names[i]!.startsWith(prefix)) {
        count++;
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        runs.push(offsets[runStart]!, offsets[i]!);
        total += offsets[i]! - offsets[runStart]!;
        runStart = -1;
      }
    }
    if (runs.length === 2) return new EncodedStreamList(bytes.subarray(runs[0], runs[1]), count);
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let r = 0; r < runs.length; r += 2) pos += bytes.copy(out, pos, runs[r], runs[r + 1]);
    return new EncodedStreamList(out, count);
  }

  #current(): Encoded {
    const version = this.streams.listVersion;
    if (this.#encoded?.version === version) return this.#encoded;
    const live = this.streams.listLive();
    const { bytes, offsets } = encodeStreamEntries(live.count, (i) => toStreamMessage(live.at(i)));
    this.#encoded = { version, bytes, offsets, names: Array.from({ length: live.count }, (_, i) => live.nameAt(i)) };
    return this.#encoded;
  }
}

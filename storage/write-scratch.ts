/**
 * Reusable memory for the values of one LevelDB write batch.
 *
 * Every framed batch used to be a fresh ~100 KiB buffer that was garbage as
 * soon as LevelDB had copied it. V8 counts such buffers as external memory
 * and starts a full mark-compact whenever enough of it was allocated since
 * the last one, whatever the heap holds: under a steady append load that
 * was a mark-compact every ~80 ms. Framing into one slab that is reused for
 * every write group removes that allocation.
 *
 * Only for databases that copy the values they are given (classic-level copies
 * them into its write batch); an in-memory database keeps the buffers and
 * must get fresh ones. The slab may be reused once the write that used it
 * has settled.
 */
export class WriteScratch {
  private slab: Buffer | undefined;
  private used = 0;

  constructor(private readonly slabBytes: number) {}

  /** Starts a new write group: everything handed out before may be overwritten. */
  reset(): void {
    this.used = 0;
  }

  /** `size` bytes from the slab, or a fresh buffer when the slab is full (a group bigger than it). */
  readonly alloc = (size: number): Buffer => {
    if (this.used + size > this.slabBytes) return Buffer.allocUnsafe(size);
    this.slab ??= Buffer.allocUnsafe(this.slabBytes);
    const out = this.slab.subarray(this.used, this.used + size);
    this.used += size;
    return out;
  };
}

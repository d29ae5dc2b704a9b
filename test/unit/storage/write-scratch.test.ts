/** The write scratch hands out slab memory per write group and spills to fresh buffers when full. */
import { describe, expect, it } from 'vitest';
import { WriteScratch } from '../../../storage/write-scratch.js';

// Sizes above 4 KiB: smaller buffers come from Node's shared pool, whatever their origin.
const K = 8 * 1024;

describe('WriteScratch', () => {
  it('hands out disjoint views of one slab, spills past it, and reuses the slab after reset', () => {
    const scratch = new WriteScratch(10 * K);
    const a = scratch.alloc(4 * K);
    const b = scratch.alloc(6 * K);
    const spilled = scratch.alloc(K);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 4 * K);
    expect(spilled.buffer).not.toBe(a.buffer);
    scratch.reset();
    const again = scratch.alloc(10 * K);
    expect(again.buffer).toBe(a.buffer);
    expect(again.byteOffset).toBe(a.byteOffset);
  });

  it('never hands out the slab for a value bigger than it', () => {
    const scratch = new WriteScratch(10 * K);
    const small = scratch.alloc(K);
    scratch.reset();
    expect(scratch.alloc(11 * K).buffer).not.toBe(small.buffer);
  });
});

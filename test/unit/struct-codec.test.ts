/**
 * The hand-written Struct encoder (src/struct.ts) against protobufjs: the
 * same bytes for plain JSON values, edge values and deep nesting included,
 * and values that are not plain JSON encoded (or refused) as protobufjs does.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, fromStructMessage, toStructMessage, type StructMessage } from '../../src/struct.js';
import { rng } from '../helpers/rng.js';

const bundled = protobuf.common.get('google/protobuf/struct.proto')!;
const Struct = protobuf.Root.fromJSON(bundled).lookupType('google.protobuf.Struct');
const viaProtobufjs = (obj: Record<string, unknown>) => Buffer.from(Struct.encode(Struct.fromObject(toStructMessage(obj))).finish());

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return [0, -0, 1.5, -1e300, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, Math.floor(next() * 1e6)][Math.floor(next() * 8)];
    case 2:
      return next() < 0.5;
    case 3:
      return ['', 'a', 'ünïcødé 名前 🚀', 'x'.repeat(200), 'y'.repeat(20_000)][Math.floor(next() * 5)];
    case 4:
      return undefined;
    case 5:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default:
      return randomObject(next, depth + 1);
  }
}

function randomObject(next: () => number, depth: number): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 6); i > 0; i--) obj[['k', 'ключ', '', '1', 'a b', `f${i}`][Math.floor(next() * 6)]!] = randomValue(next, depth);
  return obj;
}

describe('encodeStruct', () => {
  it('writes the bytes protobufjs writes for plain JSON values', () => {
    const next = rng(41);
    for (let round = 0; round < 300; round++) {
      const obj = randomObject(next, 0);
      expect(encodeStruct(obj).toString('hex')).toBe(viaProtobufjs(obj).toString('hex'));
    }
    for (const obj of [{}, { a: {} }, { a: [] }, { a: [[], {}, [null]] }, { ts: 1733300000000.5, seq: 3, keep: 1, pad: 'x'.repeat(984) }]) {
      expect(encodeStruct(obj)).toEqual(viaProtobufjs(obj));
      expect(decodeStruct(encodeStruct(obj))).toEqual(decodeStruct(viaProtobufjs(obj)));
    }
  });

  it('nesting past what it recurses into goes through protobufjs: the same bytes, or the same refusal', () => {
    const nested = (levels: number) => {
      let deep: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < levels; i++) deep = i % 2 === 0 ? { d: deep } : { l: [deep] };
      return deep;
    };
    let refused = 0;
    for (let levels = 16; levels <= 48; levels++) {
      let expected: Buffer | undefined;
      try {
        expected = viaProtobufjs(nested(levels));
      } catch {
        refused++;
        expect(() => encodeStruct(nested(levels))).toThrow(/nesting depth/);
        continue;
      }
      expect(encodeStruct(nested(levels))).toEqual(expected);
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('values that are not plain JSON are converted or refused as protobufjs does', () => {
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const proto = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as Record<string, unknown>;
    for (const obj of [{ big: 10n }, { fn: () => 1 }, { date: new Date(0) }, { buf: Buffer.from([1, 2]) }, proto]) {
      expect(encodeStruct(obj)).toEqual(viaProtobufjs(obj));
    }
    expect(() => viaProtobufjs({ sparse })).toThrow();
    expect(() => encodeStruct({ sparse })).toThrow();
  });
});

describe('decodeStruct', () => {
  const protobufjsReads = (bytes: Uint8Array) =>
    fromStructMessage(Struct.toObject(Struct.decode(bytes), { oneofs: true, enums: Number, longs: Number, defaults: false }) as StructMessage);
  /** what protobufjs makes of the bytes, or the error it throws */
  const outcome = (read: () => unknown) => {
    try {
      return { value: read() };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };

  it('reads what protobufjs reads from Structs as protobufjs writes them', () => {
    const next = rng(43);
    for (let round = 0; round < 300; round++) {
      const bytes = viaProtobufjs(randomObject(next, 0));
      expect(decodeStruct(bytes)).toEqual(protobufjsReads(bytes));
    }
  });

  it('damaged or unusual bytes read, or fail, as protobufjs has them', () => {
    const next = rng(47);
    const extras = [
      Buffer.from('0a0b0a016b12061a01611a0162', 'hex'), // a Value with its string written twice
      Buffer.from('0a090a016b120408001a00', 'hex'), // a Value with two kinds (null, then a string)
      Buffer.from('0a050a016b1200', 'hex'), // a Value with no kind
      Buffer.from('0a030a0161', 'hex'), // a map entry without a value
      Buffer.from('0a0f0a095f5f70726f746f5f5f12020800', 'hex'), // the key __proto__
      Buffer.from('0a070a016b12023800', 'hex'), // an unknown field inside a Value
      Buffer.from('0a070a016b12022002', 'hex'), // a bool of 2
      Buffer.from('0a060a016b120120', 'hex'), // a bool with its value cut off
    ];
    for (const bytes of extras) expect(outcome(() => decodeStruct(bytes))).toEqual(outcome(() => protobufjsReads(bytes)));
    for (let round = 0; round < 400; round++) {
      const bytes = Buffer.from(viaProtobufjs(randomObject(next, 0)));
      if (bytes.length === 0) continue;
      const damaged = next() < 0.5 ? bytes.subarray(0, Math.floor(next() * bytes.length)) : bytes;
      if (damaged === bytes) for (let i = 0; i < 3; i++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      expect(outcome(() => decodeStruct(damaged))).toEqual(outcome(() => protobufjsReads(damaged)));
    }
  });
});

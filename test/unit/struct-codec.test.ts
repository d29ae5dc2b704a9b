/**
 * The hand-written Struct encoder (src/struct.ts) against protobufjs: the
 * same bytes for plain JSON values, edge values and deep nesting included,
 * and values that are not plain JSON encoded (or refused) as protobufjs does.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeStruct, encodeStruct, toStructMessage } from '../../src/struct.js';
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

/** The CLI's output formats, checked against what upstream's Haskell CLI prints (Format.hs, table-layout asciiS, Aeson). */
import { describe, expect, it } from 'vitest';
import { aesonEncode, formatRecordLine, formatStructNumber, haskellShow, publishTimeMs, renderTable } from '../../src/cli/format.js';
import { decodeStruct, encodeStruct } from '../../src/struct.js';

describe('renderTable (table-layout asciiS, one row group per row)', () => {
  it('draws titles alone as a three-line table when there are no rows', () => {
    expect(renderTable(['Stream Name', 'Replica', 'Retention Time', 'Shard Count'], [])).toBe(
      [
        '+-------------+---------+----------------+-------------+',
        '| Stream Name | Replica | Retention Time | Shard Count |',
        '+-------------+---------+----------------+-------------+',
        '',
      ].join('\n'),
    );
  });

  it('separates every row with a rule and widens columns to the longest cell', () => {
    expect(renderTable(['A', 'Bee'], [['x', '1'], ['longer cell', '22']])).toBe(
      [
        '+-------------+-----+',
        '| A           | Bee |',
        '+-------------+-----+',
        '| x           | 1   |',
        '+-------------+-----+',
        '| longer cell | 22  |',
        '+-------------+-----+',
        '',
      ].join('\n'),
    );
  });

  it('measures width in characters, not UTF-16 units', () => {
    expect(renderTable(['N'], [['😀é']])).toBe(['+----+', '| N  |', '+----+', '| 😀é |', '+----+', ''].join('\n'));
  });
});

describe('haskellShow (the quoting of timestamp and key)', () => {
  it.each([
    ['', '""'],
    ['key1', '"key1"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['tab\tnl\n', '"tab\\tnl\\n"'],
    ['\u0001\u007f', '"\\SOH\\DEL"'],
    ['\u000eH', '"\\SO\\&H"'],
    ['é', '"\\233"'],
    ['é1', '"\\233\\&1"'],
    ['😀', '"\\128512"'],
  ])('show %j = %s', (input, shown) => {
    expect(haskellShow(input)).toBe(shown);
  });
});

describe('formatStructNumber (Aeson.Number (read (show d)))', () => {
  it.each([
    [27.5, '27.5'],
    [41.8, '41.8'],
    [27, '27.0'],
    [0, '0.0'],
    [-3, '-3.0'],
    [0.1, '0.1'],
    [0.25, '0.25'],
    [0.05, '5.0e-2'],
    [-0.001, '-1.0e-3'],
    [1e-10, '1.0e-10'],
    [9999999, '9999999.0'],
    [1e7, '10000000'],
    [12345678, '12345678'],
    [12345678.5, '1.23456785e7'],
    [1e21, '1000000000000000000000'],
    [123456.789, '123456.789'],
  ])('%d -> %s', (value, text) => {
    expect(formatStructNumber(value)).toBe(text);
  });
});

describe('aesonEncode', () => {
  it('sorts keys, writes compact JSON and escapes like Aeson', () => {
    expect(aesonEncode({ temp: 27.5, hum: 41.8 })).toBe('{"hum":41.8,"temp":27.5}');
    expect(aesonEncode({ b: [1, null, true, 'x'], a: { z: false, y: 'q"\n\u0001é' } })).toBe(
      '{"a":{"y":"q\\"\\n\\u0001é","z":false},"b":[1.0,null,true,"x"]}',
    );
  });
});

describe('Struct payloads', () => {
  it('round-trip every JSON kind through google.protobuf.Struct', () => {
    const obj = { s: 'x', n: 1.5, i: 2, t: true, f: false, z: null, l: [1, 'a', [null]], o: { deep: { er: 0 } } };
    expect(decodeStruct(encodeStruct(obj))).toEqual(obj);
  });

  it('encode JSON numbers as double numberValue fields (wire type 1)', () => {
    // Struct{fields{"a": Value{number_value: 1}}}: field 1 (map entry), key "a", value with tag 0x11 (field 2, fixed64)
    const bytes = encodeStruct({ a: 1 });
    expect(bytes.includes(Buffer.from([0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]))).toBe(true);
  });
});

describe('formatRecordLine', () => {
  it('matches upstream formatReceivedRecord', () => {
    const line = formatRecordLine({
      timestampMs: publishTimeMs({ seconds: '1692774844', nanos: 649_000_000 }),
      shardId: '1928822601796943',
      batchId: '8589934594',
      batchIndex: 0,
      key: 'key1',
      record: aesonEncode({ temperature: 32, humidity: 21, tag: 'test1' }),
    });
    expect(line).toBe(
      'timestamp: "1692774844649", id: 1928822601796943-8589934594-0, key: "key1", record: {"humidity":21.0,"tag":"test1","temperature":32.0}',
    );
  });
});

/** How an MQTT message becomes a record, and which topic filters are refused. */
import { describe, expect, it } from 'vitest';
import { messageRecord, recordKeyRule } from '../../src/connectors/message-record.js';
import { topicFilterProblem } from '../../src/connectors/topic-filter.js';
import { decodeStruct } from '../../src/struct.js';

describe('messageRecord', () => {
  const json = (text: string, key?: string) => messageRecord('s/1', Buffer.from(text), recordKeyRule(key));

  it('turns a JSON object into a JSON record with the topic as mqtt_topic (replacing one in the payload)', () => {
    const r = json(' {"device":"d1","mqtt_topic":"fake","v":[1,{"x":null}]}', '$.device');
    expect(r.header).toEqual({ flag: 'JSON', attributes: { mqtt_topic: 's/1' }, key: 'd1' });
    expect(decodeStruct(r.payload)).toEqual({ device: 'd1', mqtt_topic: 's/1', v: [1, { x: null }] });
  });

  it('keys by a nested scalar field, by the topic, or not at all', () => {
    expect(json('{"a":{"b":7}}', '$.a.b').header.key).toBe('7');
    expect(json('{"a":{"b":{"c":1}}}', '$.a.b').header.key).toBe('');
    expect(json('{"a":1}', '$.missing').header.key).toBe('');
    expect(json('{"a":1}', 'topic').header.key).toBe('s/1');
    expect(json('plain', 'topic').header.key).toBe('s/1');
    expect(json('plain', '$.a').header.key).toBe('');
    expect(json('{"a":1}').header.key).toBe('');
  });

  it('keeps everything else byte for byte as RAW', () => {
    for (const payload of ['[1,2]', '42', '"text"', 'not json', '{"broken":', '', '{"a":1} trailing']) {
      const r = json(payload);
      expect(r.header.flag, payload).toBe('RAW');
      expect(r.payload.toString(), payload).toBe(payload);
    }
    const invalidUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]);
    expect(messageRecord('t', invalidUtf8, { kind: 'none' })).toMatchObject({ header: { flag: 'RAW' }, payload: invalidUtf8 });
  });

  it('stores JSON nested deeper than a record holds as RAW (and parses very deep input without crashing)', () => {
    expect(json(`${'{"a":'.repeat(48)}1${'}'.repeat(48)}`).header.flag).toBe('JSON');
    expect(json(`${'{"a":'.repeat(49)}1${'}'.repeat(49)}`).header.flag).toBe('RAW');
    expect(json(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`).header.flag).toBe('RAW');
  });
});

describe('topicFilterProblem', () => {
  it('accepts filters with whole-level wildcards', () => {
    for (const f of ['a', 'a/b/c', '+', '#', 'a/+/c', 'a/#', '+/+/#', '/', 'a//b', '$SYS/#', 'ünï/cödé']) expect(topicFilterProblem(f), f).toBeUndefined();
  });

  it('refuses misplaced wildcards, NUL, lone surrogates and empty filters', () => {
    expect(topicFilterProblem('')).toMatch(/empty/);
    expect(topicFilterProblem('a/#/b')).toMatch(/"#"/);
    expect(topicFilterProblem('a#')).toMatch(/"#"/);
    expect(topicFilterProblem('a+/b')).toMatch(/"\+"/);
    expect(topicFilterProblem('a/b+')).toMatch(/"\+"/);
    expect(topicFilterProblem('a\u0000b')).toMatch(/NUL/);
    expect(topicFilterProblem('a\uD800b')).toMatch(/UTF-8/);
    expect(topicFilterProblem('x'.repeat(65536))).toMatch(/65535 bytes/);
  });
});

/** The PostgreSQL sink's upsert texts stay bounded, keep the hot ones and keep names stable. */
import { describe, expect, it } from 'vitest';
import { UpsertTexts } from '../../src/connectors/pg-upsert-texts.js';

describe('UpsertTexts', () => {
  const text = (id: string, length = 10) => () => `${id}:`.padEnd(length, '.');

  it('builds a text once per shape and returns the same name for it', () => {
    const texts = new UpsertTexts(8, 1_000);
    let builds = 0;
    const first = texts.get('a', () => { builds++; return 'INSERT a'; });
    const again = texts.get('a', () => { builds++; return 'INSERT a'; });
    expect(again).toBe(first);
    expect(builds).toBe(1);
    expect(texts.get('b', text('b')).name).not.toBe(first.name);
  });

  it('stays within its entry bound however many shapes come, and keeps the texts in use', () => {
    const texts = new UpsertTexts(8, 1_000_000);
    // a sink writing one hot shape (full statements and its remainders) among ever new shapes
    const hot = ['hot-100', 'hot-64', 'hot-32', 'hot-1'];
    const hotNames = hot.map((id) => texts.get(id, text(id)).name);
    let hotBuilds = 0;
    for (let i = 0; i < 1_000; i++) {
      texts.get(`cold-${i}`, text(`cold-${i}`));
      for (const id of hot) texts.get(id, () => { hotBuilds++; return text(id)(); });
      expect(texts.size).toBeLessThanOrEqual(8);
    }
    expect(hotBuilds).toBe(0);
    expect(hot.map((id) => texts.get(id, text(id)).name)).toEqual(hotNames);
  });

  it('stays within its character bound, dropping the least recently used', () => {
    const texts = new UpsertTexts(100, 1_000);
    for (let i = 0; i < 50; i++) {
      texts.get(`shape-${i}`, text(`shape-${i}`, 300));
      expect(texts.chars).toBeLessThanOrEqual(1_000);
    }
    expect(texts.size).toBe(3);
  });

  it('gives a text built again after it was dropped its old name, so connections can keep using it', () => {
    const texts = new UpsertTexts(2, 1_000);
    const name = texts.get('a', text('a')).name;
    texts.get('b', text('b'));
    texts.get('c', text('c'));
    let rebuilt = false;
    expect(texts.get('a', () => { rebuilt = true; return text('a')(); }).name).toBe(name);
    expect(rebuilt).toBe(true);
  });
});

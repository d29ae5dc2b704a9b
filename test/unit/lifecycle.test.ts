import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/core/lifecycle.js';
import { StreamDependents } from '../../src/core/stream-dependents.js';

describe('Lifecycle', () => {
  it('loads in order, starts after every load, closes loaded components last-first even when one fails to close', async () => {
    const events: string[] = [];
    const component = (name: string, failClose = false) => ({
      name,
      load: async () => void events.push(`load ${name}`),
      start: () => void events.push(`start ${name}`),
      close: async () => {
        events.push(`close ${name}`);
        if (failClose) throw new Error(`${name} broke`);
      },
    });
    const lines: string[] = [];
    const life = new Lifecycle(pino({ level: 'error' }, { write: (l: string) => void lines.push(l) }));
    life.register(component('store-users')).register(component('subscriptions', true)).register(component('queries'));
    await life.load();
    life.start();
    await life.close();
    expect(events).toEqual([
      'load store-users',
      'load subscriptions',
      'load queries',
      'start store-users',
      'start subscriptions',
      'start queries',
      'close queries',
      'close subscriptions',
      'close store-users',
    ]);
    expect(lines.join('')).toContain('subscriptions broke');
  });

  it('after a failed load closes only what loaded', async () => {
    const events: string[] = [];
    const life = new Lifecycle(pino({ level: 'silent' }))
      .register({ name: 'a', load: async () => void events.push('load a'), close: async () => void events.push('close a') })
      .register({
        name: 'b',
        load: async () => {
          throw new Error('b cannot load');
        },
        close: async () => void events.push('close b'),
      });
    await expect(life.load()).rejects.toThrow('b cannot load');
    await life.close();
    expect(events).toEqual(['load a', 'close a']);
  });
});

describe('StreamDependents', () => {
  it('lists dependents by kind; only holding kinds keep a stream', () => {
    const deps = new StreamDependents();
    const subs = new Map<number, string[]>([[1, ['sub_a']]]);
    const queries = new Map<string, string[]>([['s2', ['q1']]]);
    deps.register({ kind: 'subscription', holdsData: true, dependentsOf: (s) => subs.get(s.id) ?? [] });
    deps.register({ kind: 'query', holdsData: false, dependentsOf: (s) => queries.get(s.name) ?? [] });
    expect(deps.of({ id: 1, name: 's1' })).toEqual([{ kind: 'subscription', names: ['sub_a'] }]);
    expect(deps.holdsData({ id: 1, name: 's1' })).toBe(true);
    expect(deps.of({ id: 2, name: 's2' })).toEqual([{ kind: 'query', names: ['q1'] }]);
    expect(deps.holdsData({ id: 2, name: 's2' })).toBe(false);
  });
});
